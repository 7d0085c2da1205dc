from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo's orchestration (`foodrisk demo_data`): above every app it drives (synth, ingest, indicators,
    scoring), so none of them imports upwards. No models."""

    name = "foodrisk.demo"
    label = "demo"
