"""Resumable downloads with mirror fallback, against a byte-range server on 127.0.0.1."""

import hashlib

import pytest

from sphereface_lib.data import DataFileError
from sphereface_lib.data.download import MIRROR_ENV, RemoteFile, download, fetch, sources

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes, every offset distinguishable
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def partial_of(folder, name="file.bin"):
    return folder / f"{name}.partial", folder / f"{name}.partial.source"


def test_a_file_is_fetched_checked_and_renamed_into_place(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    path = fetch(
        RemoteFile("file.bin", (server.url_of("/file.bin"),), DIGEST), tmp_path, progress=False
    )
    assert path == tmp_path / "file.bin" and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.bin"]  # no .partial left
    assert server.requests == [("/file.bin", None)]


def test_a_partial_download_resumes_with_a_range_request(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    url = server.url_of("/file.bin")
    partial, source = partial_of(tmp_path)
    partial.write_bytes(PAYLOAD[:3000])  # as left by an interrupted run
    source.write_text(url + "\n")
    path = fetch(RemoteFile("file.bin", (url,), DIGEST), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert server.requests == [("/file.bin", "bytes=3000-")]  # only the rest was sent


def test_a_dropped_connection_is_resumed_in_the_same_run(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    server.cut_after["/file.bin"] = 4000
    path = fetch(
        RemoteFile("file.bin", (server.url_of("/file.bin"),), DIGEST), tmp_path, progress=False
    )
    assert path.read_bytes() == PAYLOAD
    assert server.requests == [("/file.bin", None), ("/file.bin", "bytes=4000-")]


def test_bytes_from_another_source_are_not_resumed(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    partial, source = partial_of(tmp_path)
    partial.write_bytes(b"x" * 3000)
    source.write_text("http://127.0.0.1:9/elsewhere.bin\n")
    download(server.url_of("/file.bin"), tmp_path / "file.bin", progress=False)
    assert partial.read_bytes() == PAYLOAD and server.requests == [("/file.bin", None)]


def test_a_server_that_ignores_ranges_sends_the_whole_file_again(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    server.ignore_range.add("/file.bin")
    partial, source = partial_of(tmp_path)
    partial.write_bytes(PAYLOAD[:3000])
    source.write_text(server.url_of("/file.bin") + "\n")
    download(server.url_of("/file.bin"), tmp_path / "file.bin", progress=False)
    assert partial.read_bytes() == PAYLOAD  # rewritten, not appended to
    assert server.requests == [("/file.bin", "bytes=3000-")]


def test_a_partial_file_that_is_already_complete_is_kept(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    partial, source = partial_of(tmp_path)
    partial.write_bytes(PAYLOAD)  # killed after the last byte, before the rename
    source.write_text(server.url_of("/file.bin") + "\n")
    download(server.url_of("/file.bin"), tmp_path / "file.bin", progress=False)
    assert partial.read_bytes() == PAYLOAD
    assert server.requests == [("/file.bin", f"bytes={len(PAYLOAD)}-")]  # answered 416


def test_mirrors_are_tried_in_order_until_one_serves_the_right_bytes(server, tmp_path):
    server.files["/bad/file.bin"] = PAYLOAD[::-1]  # same size, other bytes
    server.files["/good/file.bin"] = PAYLOAD
    urls = [server.url_of(p) for p in ("/gone/file.bin", "/bad/file.bin", "/good/file.bin")]
    remote = RemoteFile("file.bin", tuple(urls), DIGEST)
    assert fetch(remote, tmp_path, progress=False).read_bytes() == PAYLOAD
    assert [path for path, _ in server.requests] == [
        "/gone/file.bin",
        "/bad/file.bin",
        "/good/file.bin",
    ]


def test_when_every_source_fails_one_line_names_each_and_why(server, tmp_path):
    server.files["/bad/file.bin"] = b"not it"
    urls = (server.url_of("/gone/file.bin"), server.url_of("/bad/file.bin"))
    with pytest.raises(DataFileError) as error:
        fetch(RemoteFile("file.bin", urls, DIGEST), tmp_path, progress=False, fix="copy it")
    message = str(error.value)
    assert "\n" not in message and message.endswith("; copy it")
    assert f"{urls[0]}: HTTP 404" in message
    assert f"{urls[1]}: refused, SHA-256 {hashlib.sha256(b'not it').hexdigest()}" in message
    assert not (tmp_path / "file.bin").exists() and not partial_of(tmp_path)[0].exists()


def test_an_earlier_download_is_checked_before_it_is_used(server, tmp_path):
    server.files["/file.bin"] = PAYLOAD
    (tmp_path / "file.bin").write_bytes(b"stale")
    remote = RemoteFile("file.bin", (server.url_of("/file.bin"),), DIGEST)
    assert fetch(remote, tmp_path, progress=False).read_bytes() == PAYLOAD
    assert len(server.requests) == 1
    assert fetch(remote, tmp_path, progress=False).read_bytes() == PAYLOAD
    assert len(server.requests) == 1  # a good file is not fetched again


def test_the_caller_can_refuse_a_download(server, tmp_path):
    server.files["/a/file.bin"] = b"first"
    server.files["/b/file.bin"] = b"second"
    seen = []

    def accept(path):
        seen.append(path.read_bytes())
        if path.read_bytes() == b"first":
            raise DataFileError("not this one")

    urls = (server.url_of("/a/file.bin"), server.url_of("/b/file.bin"))
    path = fetch(RemoteFile("file.bin", urls), tmp_path, accept, progress=False)
    assert path.read_bytes() == b"second" and seen == [b"first", b"second"]


def test_the_mirror_variable_replaces_the_public_sources(monkeypatch):
    remote = RemoteFile("pairs.txt", ("https://example.org/lfw/pairs.txt",))
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    assert sources(remote) == ["https://example.org/lfw/pairs.txt"]
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:8000/data/ file:///never")
    assert sources(remote) == ["http://127.0.0.1:8000/data/pairs.txt", "file:///never/pairs.txt"]


def test_a_mirror_on_disk_works_through_a_file_url(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "file.bin").write_bytes(PAYLOAD)
    remote = RemoteFile("file.bin", ((mirror / "file.bin").as_uri(),), DIGEST)
    assert fetch(remote, tmp_path / "data", progress=False).read_bytes() == PAYLOAD
