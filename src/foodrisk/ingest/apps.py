from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IngestConfig(AppConfig):
    name = "foodrisk.ingest"
    label = "ingest"
    verbose_name = _("Data ingestion")

    def ready(self):
        from foodrisk.core import metrics
        from foodrisk.core import navigation as nav

        from . import ops

        metrics.register_collector(ops.import_metrics)

        nav.section("ingest", _("Data ingestion"), "bi-cloud-upload", order=20)
        nav.add("ingest", _("Upload a file"), "ingest:upload", "ingest.add_batch")
        nav.add("ingest", _("Import batches"), "ingest:batch_list", "ingest.view_batch")
        nav.add("ingest", _("Quarantine"), "ingest:quarantinedrow_list", "ingest.view_quarantinedrow")
        nav.add("ingest", _("Entity review queue"), "ingest:matchcandidate_list", "ingest.view_matchcandidate")
        nav.add("ingest", _("Data quality"), "ingest:quality", "ingest.view_batch")
        nav.add("ingest", _("Import templates"), "ingest:templates", "ingest.view_batch")
        nav.add("ingest", _("Data sources"), "ingest:source_list", "ingest.view_source")
        nav.add("ingest", _("Mapping profiles"), "ingest:mappingprofile_list", "ingest.view_mappingprofile")
        nav.add("ingest", _("Mapping designer"), "ingest:designer", "ingest.add_mappingprofile")
