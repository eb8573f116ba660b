"""Atomic writes leave files with the permissions a plain open() would give them."""

import stat

from wholesoil._atomic import write_text


def test_atomic_write_uses_default_permissions(tmp_path):
    from wholesoil._atomic import _UMASK

    p = write_text(tmp_path / "a.txt", "x")
    assert stat.S_IMODE(p.stat().st_mode) == 0o666 & ~_UMASK
    plain = tmp_path / "b.txt"
    plain.write_text("x")
    assert stat.S_IMODE(p.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)
