"""Bad data files: a refusal in words before anything big is read, never a traceback or an exhausted machine.

Files are written as their usual tools write them: CSV as text, npz as numpy
lays it out (a zip of .npy members, each a header then the values), IDX as the
MNIST files are (a big-endian header, then the values, gzipped).
"""

import gzip
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

from studio.data import load_data
from studio.data import settings as data_settings
from studio.errors import DataError

ZEROS = bytes(1 << 20)


def write_csv(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_field_of_300000_characters_is_refused_with_its_line(tmp_path):
    write_csv(tmp_path / "t.csv", "a,b,y\n1,2,0\n3," + "x" * 300_000 + ",1\n4,5,0\n")
    with pytest.raises(DataError, match=r"t.csv: line 3 is not a table row \(field larger than field limit"):
        load_data({"source": "csv", "path": "t.csv"}, (2,), root=tmp_path)


def test_duplicate_csv_column_names_are_refused(tmp_path):
    write_csv(tmp_path / "t.csv", "a,b,a,y\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(DataError, match="the header names column 'a' twice"):
        load_data({"source": "csv", "path": "t.csv"}, (3,), root=tmp_path)


def write_npz(path, shape, dtype, chunks: int):
    """An .npz whose 'x' declares `shape` and holds `chunks` MiB of zeros (all of it when they add up)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("x.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                          "shape": shape})
            for _ in range(chunks):
                member.write(ZEROS)
        with archive.open("y.npy", "w") as member:
            np.lib.format.write_array(member, np.zeros(shape[0], dtype=np.int64))


def write_idx(path, count: int, chunks: int):
    """Gzipped IDX images declaring `count`×28×28 bytes, holding `chunks` MiB of zeros."""
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, count, 28, 28))
        for _ in range(chunks):
            f.write(ZEROS)


def peak_while(load) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            load()
        return tracemalloc.get_traced_memory()[1], str(info.value)
    finally:
        tracemalloc.stop()


def test_a_zipped_npz_is_refused_by_its_declared_size_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(data_settings, "MAX_DATA_BYTES", 32 << 20)  # the limit, scaled down with the file
    write_npz(tmp_path / "d.npz", (65536, 1024), "f8", 64 * 8)  # 512 MiB of zeros in about 0.5 MB
    peak, message = peak_while(lambda: load_data({"source": "npz", "path": "d.npz"}, (1024,), root=tmp_path))
    assert "array 'x' declares shape (65536, 1024) of float64, 536.9 MB of data, more than the 33.6 MB" in message
    assert peak < 8 << 20  # nothing of it was unpacked


def test_a_gzipped_idx_is_refused_by_its_declared_size_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(data_settings, "MAX_DATA_BYTES", 32 << 20)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", 100_000, 75)  # 78.4 MB in about 80 kB
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f:
        f.write(struct.pack(">BBBBI", 0, 0, 8, 1, 100_000) + bytes(100_000))
    peak, message = peak_while(lambda: load_data({"source": "mnist", "path": "."}, (1, 28, 28), root=tmp_path))
    assert "its header declares shape (100000, 28, 28), 78.4 MB of data, more than the 33.6 MB" in message
    assert peak < 8 << 20


def test_the_real_limit_refuses_a_header_of_2_35_gb(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", 3_000_000, 1)  # as the 10 MB file declares
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", 3_000_000, 0)
    with pytest.raises(DataError, match=r"declares shape \(3000000, 28, 28\), 2.4 GB of data, more than the 2.1 GB "
                                        r"a data file may hold"):
        load_data({"source": "mnist", "path": "."}, (1, 28, 28), root=tmp_path)


def test_a_gzipped_file_without_a_header_is_unpacked_only_up_to_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(data_settings, "MAX_DATA_BYTES", 32 << 20)
    stream = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip framing
    data = b"".join(stream.compress(bytes(3073 * 1000)) for _ in range(30)) + stream.flush()  # 92 MB of records
    (tmp_path / "data_batch_1.bin").write_bytes(data)
    peak, message = peak_while(lambda: data_settings.read_bytes(tmp_path / "data_batch_1.bin"))
    assert "unzipped, it holds at least" in message and "more than the 33.6 MB" in message
    assert peak < 64 << 20
