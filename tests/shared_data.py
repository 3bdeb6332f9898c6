"""Where the shared data sets live: the ``shared/`` folder beside the checkout (``../shared``
from the repository root), or beside a folder holding the checkout (a git worktree kept under
``wt/``, as the developers' worktrees are). The first ancestor that holds ``shared/`` wins; when
none does, the ``../shared`` path is still returned so that skip messages name it."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = next((p / "shared" for p in REPO.parents if (p / "shared").is_dir()), REPO.parent / "shared")
