"""distilpose.fileio: a write is whole or absent; the temporary files a kill
leaves are found; sha256 as hashlib gives it."""
import hashlib
import os

import pytest

from distilpose.fileio import atomic_write, sha256sum, temporary_files


def test_atomic_write_replaces_the_file_whole(tmp_path):
    path = tmp_path / 'sub' / 'model.pth'
    atomic_write(b'old', str(path))
    atomic_write(b'new contents', str(path))
    assert path.read_bytes() == b'new contents'
    assert temporary_files(str(path.parent)) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
        tmp_path, monkeypatch):
    path = tmp_path / 'model.pth'
    atomic_write(b'old', str(path))

    def full_disk(src, dst):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'replace', full_disk)
    with pytest.raises(OSError, match='No space'):
        atomic_write(b'new', str(path))
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['model.pth']


def test_temporary_files_finds_only_what_atomic_write_names(tmp_path):
    left = tmp_path / '.epoch_2.pth.0123abcd.tmp'  # a killed write
    left.write_bytes(b'half')
    (tmp_path / 'epoch_1.pth').write_bytes(b'x')
    (tmp_path / 'notes.tmp').write_bytes(b'x')  # not ours
    assert temporary_files(str(tmp_path)) == [str(left)]


def test_sha256sum_matches_hashlib_across_blocks(tmp_path):
    data = os.urandom((1 << 20) + 123)  # more than one 1 MiB block
    path = tmp_path / 'blob'
    path.write_bytes(data)
    assert sha256sum(str(path)) == hashlib.sha256(data).hexdigest()
