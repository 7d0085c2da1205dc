"""Response shapes of the analytics API (read-only figures; documented for the OpenAPI schema)."""

from rest_framework import serializers


class GradeCountsSerializer(serializers.Serializer):
    A = serializers.IntegerField(min_value=0)
    B = serializers.IntegerField(min_value=0)
    C = serializers.IntegerField(min_value=0)
    D = serializers.IntegerField(min_value=0)
    total = serializers.IntegerField(min_value=0)


class MonthGradesSerializer(GradeCountsSerializer):
    month = serializers.CharField(help_text="YYYY-MM")


class FilterEchoSerializer(serializers.Serializer):
    start = serializers.CharField(help_text="YYYY-MM")
    end = serializers.CharField(help_text="YYYY-MM")
    region = serializers.CharField(allow_null=True, help_text="region code of the subtree; null: the whole scope")
    business_form = serializers.CharField(allow_blank=True)


class GradesSerializer(FilterEchoSerializer):
    now = MonthGradesSerializer(allow_null=True, help_text="the last month of the period that has figures")
    months = MonthGradesSerializer(many=True)


class MatrixRowSerializer(GradeCountsSerializer):
    region = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    exact = serializers.BooleanField(help_text="the region subtree holds exactly the enterprises of the row")
    enterprises_url = serializers.CharField(allow_blank=True, help_text="the enterprise list of the row "
                                            "(add current_grade=A…D for a cell); empty when not exact")


class MatrixSerializer(FilterEchoSerializer):
    month = serializers.CharField(allow_null=True, help_text="YYYY-MM of the figures")
    rows = MatrixRowSerializer(many=True)


class AlertFiguresSerializer(FilterEchoSerializer):
    raised = serializers.IntegerField(min_value=0)
    confirmed = serializers.IntegerField(min_value=0)
    dismissed = serializers.IntegerField(min_value=0)
    closed = serializers.IntegerField(min_value=0)
    closed_measured = serializers.IntegerField(min_value=0, help_text="alerts closed in the period")
    days_to_close_median = serializers.FloatField(allow_null=True)
    days_to_close_p90 = serializers.FloatField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AlertOrganisationSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(allow_null=True, help_text="organisation id; null: none responsible")
    name = serializers.CharField()
    raised = serializers.IntegerField(min_value=0)
    closed = serializers.IntegerField(min_value=0)
    late = serializers.IntegerField(min_value=0, help_text="handled past the deadline (or open after it)")
    late_share = serializers.FloatField(allow_null=True, help_text="late / raised, per cent")
    days_to_close_median = serializers.FloatField(allow_null=True)
    days_to_close_p90 = serializers.FloatField(allow_null=True)


class AlertHandlingSerializer(AlertFiguresSerializer):
    late = serializers.IntegerField(min_value=0)
    late_share = serializers.FloatField(allow_null=True)
    reviewed_measured = serializers.IntegerField(min_value=0)
    dispatched_measured = serializers.IntegerField(min_value=0)
    days_to_review_median = serializers.FloatField(allow_null=True)
    days_to_review_p90 = serializers.FloatField(allow_null=True)
    days_to_dispatch_median = serializers.FloatField(allow_null=True)
    days_to_dispatch_p90 = serializers.FloatField(allow_null=True)
    organisations = AlertOrganisationSerializer(many=True)


class DaysEchoSerializer(FilterEchoSerializer):
    grade = serializers.CharField(allow_blank=True)
    first_date = serializers.DateField()
    second_date = serializers.DateField()


class MigrationRowSerializer(serializers.Serializer):
    grade = serializers.CharField(help_text="the grade on the first date; none: not graded then")
    cells = GradeCountsSerializer(help_text="enterprises by their grade on the second date (total: the row's)")
    enterprises_url = serializers.CharField(help_text="the enterprise list of the row; add second_grade=A…D for "
                                            "a cell")


class MigrationSerializer(DaysEchoSerializer):
    rows = MigrationRowSerializer(many=True)
    total = serializers.IntegerField(min_value=0)
    stayed = serializers.IntegerField(min_value=0)
    worse = serializers.IntegerField(min_value=0, help_text="moved to a higher-risk grade")
    better = serializers.IntegerField(min_value=0, help_text="moved to a lower-risk grade")
    new = serializers.IntegerField(min_value=0, help_text="not graded on the first date")


class RankingRowSerializer(GradeCountsSerializer):
    key = serializers.CharField(allow_blank=True, help_text="business form code or food category ('' = none)")
    label = serializers.CharField()
    high = serializers.IntegerField(min_value=0, help_text="grades C and D")
    high_share = serializers.FloatField(allow_null=True, help_text="per cent")
    mean_score = serializers.FloatField(allow_null=True)


class TopEnterpriseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    uscc = serializers.CharField()
    name = serializers.CharField()
    region = serializers.CharField()
    grade = serializers.CharField(allow_blank=True)
    score = serializers.FloatField(allow_null=True)
    before = serializers.FloatField(required=False, help_text="score on the first date (largest rise)")
    after = serializers.FloatField(required=False, help_text="score on the second date (largest rise)")
    rise = serializers.FloatField(required=False)


class RankingsSerializer(DaysEchoSerializer):
    by_business_form = RankingRowSerializer(many=True)
    by_food_category = RankingRowSerializer(many=True)
    highest_risk = TopEnterpriseSerializer(many=True)
    largest_rise = TopEnterpriseSerializer(many=True)


class SupervisionRowSerializer(serializers.Serializer):
    """One grade's row. enterprises, key, required, uninspected: the enterprises' grade now; done, inspected,
    failed: the grade in force on the day of each inspection (held at the end of the day before); rectifications:
    the grade in force on the day each order was made. Inspections and orders of enterprises not graded by then
    are in no row."""

    grade = serializers.CharField(help_text="A…D, or CD for grades C and D together")
    enterprises = serializers.IntegerField(min_value=0, help_text="enterprises holding the grade now")
    key = serializers.IntegerField(min_value=0, help_text="of them under key supervision")
    required = serializers.FloatField(allow_null=True, help_text="inspections the active profile asks for in "
                                      "the period for the enterprises holding the grade now; null: no active profile")
    done = serializers.IntegerField(min_value=0, help_text="inspections in the period made while the enterprise "
                                    "held the grade (the grade in force on the inspection's day)")
    done_share = serializers.FloatField(allow_null=True, help_text="done / required, per cent")
    inspected = serializers.IntegerField(min_value=0, help_text="enterprises inspected in the period while holding "
                                         "the grade (CD: once, though inspected under both)")
    uninspected = serializers.IntegerField(min_value=0, help_text="enterprises holding the grade now without any "
                                           "inspection in the period")
    covered = serializers.IntegerField(min_value=0, help_text="enterprises holding the grade now inspected in the "
                                       "period (enterprises - uninspected)")
    coverage = serializers.FloatField(allow_null=True, help_text="covered / enterprises, per cent (the grade now)")
    failed = serializers.IntegerField(min_value=0, help_text="non-compliant inspections, under the grade in force "
                                      "on the inspection's day")
    failed_share = serializers.FloatField(allow_null=True, help_text="problem-finding rate: failed / done, per cent "
                                          "(the grade in force on the inspections' days, not the grade a failure "
                                          "brought)")
    rectifications = serializers.IntegerField(min_value=0, help_text="rectification orders due in the period, under "
                                              "the grade in force on the day each was made")
    rectified = serializers.IntegerField(min_value=0)
    rectified_share = serializers.FloatField(allow_null=True)


class SupervisionUngradedSerializer(serializers.Serializer):
    """The inspections and rectification orders of the period made before the enterprise's first grade."""

    done = serializers.IntegerField(min_value=0, help_text="inspections")
    inspected = serializers.IntegerField(min_value=0, help_text="enterprises inspected")
    failed = serializers.IntegerField(min_value=0, help_text="non-compliant inspections")
    rectifications = serializers.IntegerField(min_value=0, help_text="rectification orders due in the period")
    rectified = serializers.IntegerField(min_value=0, help_text="of them done")


class SupervisionSerializer(FilterEchoSerializer):
    grade = serializers.CharField(allow_blank=True)
    profile = serializers.CharField(allow_null=True, help_text="the active supervision profile's code")
    rows = SupervisionRowSerializer(many=True)
    ungraded = SupervisionUngradedSerializer(allow_null=True, help_text=(
        "inspections and orders of enterprises not graded yet on their day (in no row); null when none or when "
        "one grade is asked for"))


class RepairCountsSerializer(serializers.Serializer):
    applied = serializers.IntegerField(min_value=0, help_text="applications made in the period")
    pending = serializers.IntegerField(min_value=0)
    approved = serializers.IntegerField(min_value=0)
    rejected = serializers.IntegerField(min_value=0)
    decided = serializers.IntegerField(min_value=0, help_text="approved + rejected")
    approval_rate = serializers.FloatField(allow_null=True, help_text="approved / decided, per cent")
    list_url = serializers.CharField(help_text="the credit repair list of these applications (add decision=…)")


class RepairMonthSerializer(RepairCountsSerializer):
    month = serializers.CharField(help_text="YYYY-MM, the month applied")


class RepairGradeSerializer(RepairCountsSerializer):
    grade = serializers.CharField(allow_blank=True, help_text="the enterprises' current grade ('' = not graded)")


class RepairsSerializer(FilterEchoSerializer):
    grade = serializers.CharField(allow_blank=True)
    total = RepairCountsSerializer()
    months = RepairMonthSerializer(many=True)
    grades = RepairGradeSerializer(many=True)


class FreshnessRowSerializer(serializers.Serializer):
    source = serializers.IntegerField(help_text="source id")
    source_name = serializers.CharField()
    kind = serializers.CharField(help_text="record kind of the batches")
    last_import = serializers.DateTimeField(allow_null=True, help_text="end of the last successful import")
    age_days = serializers.FloatField(allow_null=True, help_text="days since then; null: never succeeded")
    batches = serializers.IntegerField(min_value=0)
    failed = serializers.IntegerField(min_value=0)
    rows_read = serializers.IntegerField(min_value=0)
    quarantined = serializers.IntegerField(min_value=0)
    quarantine_share = serializers.FloatField(allow_null=True, help_text="quarantined / rows read, per cent")


class DataMonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM, the month the batches were started")
    batches = serializers.IntegerField(min_value=0)
    failed = serializers.IntegerField(min_value=0)
    rows_read = serializers.IntegerField(min_value=0)
    quarantined = serializers.IntegerField(min_value=0)
    quarantine_share = serializers.FloatField(allow_null=True)


class OpenQuarantineSerializer(serializers.Serializer):
    kind = serializers.CharField()
    open = serializers.IntegerField(min_value=0, help_text="quarantined rows waiting for a correction")


class DataQualitySerializer(serializers.Serializer):
    start = serializers.CharField(help_text="YYYY-MM")
    end = serializers.CharField(help_text="YYYY-MM")
    region = serializers.CharField(allow_null=True, help_text="region code of the subtree; null: the whole scope")
    freshness = FreshnessRowSerializer(many=True)
    months = DataMonthSerializer(many=True)
    quarantine = OpenQuarantineSerializer(many=True)
