from .models.config import Channel, ParameterType  # noqa: F401
from .models.exports import ExportFormat, ExportStatus  # noqa: F401
from .models.jobs import Frequency, JobStatus  # noqa: F401
from .models.regions import OrganisationKind, RegionLevel  # noqa: F401
