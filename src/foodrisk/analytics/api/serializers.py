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
