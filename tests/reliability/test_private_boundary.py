"""The private boundary on disk after a real plant run: private zones owner-only, shareable zones readable by
the group at most — checked with stat on every file the run wrote."""

import os
import stat

from waterworks.assets.lake import PRIVATE_ZONES


def _modes(root):
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            yield path, stat.S_IMODE(os.lstat(path).st_mode)


def test_private_zones_are_owner_only(plant):
    settings, first, _ = plant
    assert first.ok
    lake = settings.home / "lake"
    checked = 0
    for zone in PRIVATE_ZONES:
        assert stat.S_IMODE((lake / zone).stat().st_mode) == 0o700, zone
        for path, mode in _modes(lake / zone):
            assert mode & 0o077 == 0, (path, oct(mode))
            checked += 1
    assert checked > 20
    assert (lake / "purified" / "analysis_memo").exists()  # the memo is among them


def test_no_folder_the_run_made_lets_other_users_in(plant):
    """Folders gate access: none under the home (stores, caches, lake, reports) is open to other users, so a
    file copied in with its own mode (MLflow copies code files as 0644) is still not world-readable."""
    settings, _, _ = plant
    landing = str(settings.landing_dir)  # the user's delivery folder, not ours
    offenders = [(p, oct(m)) for p, m in _modes(settings.home)
                 if os.path.isdir(p) and m & 0o007 and not p.startswith(landing)]
    assert offenders == []
    for zone in ("sanitized", "datasets"):
        for path, mode in _modes(settings.home / "lake" / zone):
            assert mode & 0o027 == 0, (path, oct(mode))  # readable by the group at most
