"""Reading a YAML file's text: as many bytes as the file has (not the limit's worth at every
read), all of them even when the file grew after its size was taken, and never more than the
limit."""

from __future__ import annotations

import os
from pathlib import Path, PosixPath

import pytest

from ctflow import yamlio


class _Understated(PosixPath):
    """A path whose size, as ``stat`` gives it, is 0: as for a file that grew since."""

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        real = list(super().stat(follow_symlinks=follow_symlinks))
        real[6] = 0  # st_size
        return os.stat_result(real)


def test_a_file_that_grew_after_its_size_was_taken_is_read_whole(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: EventSchema\nevent: Grew\n")
    (document,) = yamlio.load_documents(_Understated(tmp_path / "a.yaml"))
    assert document.data == {"kind": "EventSchema", "event": "Grew"}


@pytest.mark.parametrize("path_type", [Path, _Understated])
def test_a_file_over_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path_type: type[Path]
) -> None:
    monkeypatch.setattr(yamlio, "MAX_BYTES", 20)
    (tmp_path / "a.yaml").write_text("event: " + "x" * 20 + "\n")
    with pytest.raises(yamlio.YamlError, match="more than 20 bytes; refusing it"):
        yamlio.load_documents(path_type(tmp_path / "a.yaml"))
    (tmp_path / "b.yaml").write_text("event: " + "x" * 12 + "\n")  # 20 bytes: read
    assert yamlio.load_documents(path_type(tmp_path / "b.yaml"))[0].data == {"event": "x" * 12}
