"""The complete schema: every ORM model module is imported here, so ``Base.metadata`` knows every table.

Alembic's env.py and the migration test read ``Base`` from this module. A new model module adds one import.
"""

from diemcau.adapters.db import models  # noqa: F401
from diemcau.adapters.db import models_dashboards  # noqa: F401
from diemcau.adapters.db import models_materials  # noqa: F401
from diemcau.adapters.db import models_media  # noqa: F401
from diemcau.adapters.db import models_perf  # noqa: F401
from diemcau.adapters.db import models_progress  # noqa: F401
from diemcau.adapters.db import models_quiz  # noqa: F401
from diemcau.adapters.db import models_questions  # noqa: F401
from diemcau.adapters.db import models_replays  # noqa: F401
from diemcau.adapters.db import models_transcript  # noqa: F401
from diemcau.adapters.db.models import Base

__all__ = ["Base"]
