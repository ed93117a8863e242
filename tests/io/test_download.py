"""neuralign.io.download: mirror hits, verification failures, safe unzip, resume/retry on
loopback."""

import hashlib
import http.server
import json
import os
import socket
import stat
import threading
import zipfile
from pathlib import Path

import pytest

from neuralign.io import download as dl
from neuralign.io.archives import extract_zip
from neuralign.io.download import FigshareFile, RemoteFile, download
from neuralign.io.resources import (
    DownloadError,
    DownloadLock,
    LockEntry,
    mirror_path,
    sha256_file,
)

MIRROR = Path(
    os.environ.get(dl.MIRROR_ENV) or Path(__file__).resolve().parents[2].parent / "shared/mirror"
)
needs_mirror = pytest.mark.skipif(
    not MIRROR.is_dir(), reason=f"data mirror {MIRROR} is absent (set {dl.MIRROR_ENV})"
)
README = dl.RemoteFile(
    "https://raw.githubusercontent.com/cowleygroup/V4_compact_models/"
    "f4552ad9d34a466ebc66658f72a08a8e5038f1cf/data_V4_responses/readme.txt",
    "85e03e02327dff4e64cc247127bb6092e84fb376ccb2949987341c564dd0561e",
    5258,
)
URL = "https://data.example.org/files/responses.npy"
PAYLOAD = bytes(range(256)) * 400
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture(autouse=True)
def no_env_mirror(monkeypatch):
    monkeypatch.delenv(dl.MIRROR_ENV, raising=False)


@pytest.fixture
def workdir(tmp_path):
    """A download folder that already holds an unrelated file, which must survive."""
    folder = tmp_path / "resources"
    folder.mkdir()
    (folder / "unrelated.txt").write_text("keep me")
    return folder


def assert_clean(folder: Path, dest: Path) -> None:
    assert not dest.exists()
    assert not dest.with_name(dest.name + ".part").exists()
    assert (folder / "unrelated.txt").read_text() == "keep me"


def put(mirror: Path, url: str, content: bytes) -> None:
    path = mirror / mirror_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


@needs_mirror
def test_mirror_hit_is_verified(workdir):
    dest = README.fetch(workdir / "readme.txt", mirror=MIRROR, progress=False)
    assert dest == workdir / "readme.txt"
    assert sha256_file(dest) == README.sha256
    assert dest.read_bytes() == (MIRROR / mirror_path(README.url)).read_bytes()
    assert sorted(p.name for p in workdir.iterdir()) == ["readme.txt", "unrelated.txt"]


@needs_mirror
def test_mirror_from_environment(workdir, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, str(MIRROR))
    assert sha256_file(README.fetch(workdir / "readme.txt", progress=False)) == README.sha256


def test_verified_dest_is_kept_without_any_access(workdir):
    dest = workdir / "responses.npy"
    dest.write_bytes(PAYLOAD)
    assert download(URL, dest, sha256=PAYLOAD_SHA, mirror=workdir / "absent") == dest


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PAYLOAD[:-1] + b"x", "sha256 is"),
        (PAYLOAD[:1000], "truncated"),
        (b"\n<!DOCTYPE html><html><body>404</body></html>", "HTML page"),
        (b"<html><body>Sign in</body></html>", "HTML page"),
    ],
)
def test_bad_mirror_file_raises_and_leaves_nothing(tmp_path, workdir, content, message):
    put(tmp_path / "mirror", URL, content)
    dest = workdir / "responses.npy"
    with pytest.raises(DownloadError, match=message) as err:
        download(URL, dest, sha256=PAYLOAD_SHA, size=len(PAYLOAD), mirror=tmp_path / "mirror")
    assert URL in str(err.value) and str(dest) in str(err.value)
    assert_clean(workdir, dest)


def test_html_file_may_be_html(tmp_path, workdir):
    put(tmp_path / "mirror", "https://example.org/index.html", b"<!doctype html><p>hi</p>")
    dest = download(
        "https://example.org/index.html", workdir / "index.html", mirror=tmp_path / "mirror"
    )
    assert dest.read_bytes().startswith(b"<!doctype html>")


@pytest.mark.parametrize(
    "url", ["http://example.org/data.npy", "ftp://example.org/data.npy", "file:///etc/passwd"]
)
def test_non_https_url_is_refused(workdir, url):
    with pytest.raises(DownloadError, match="only https://"):
        download(url, workdir / "data.npy")
    assert_clean(workdir, workdir / "data.npy")


def test_missing_mirror_directory_is_an_error(tmp_path, workdir, monkeypatch):
    monkeypatch.setenv(dl.MIRROR_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(DownloadError, match="NEURALIGN_MIRROR"):
        download(URL, workdir / "responses.npy")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_network_says_how_to_use_a_mirror(tmp_path, workdir):
    url = f"https://127.0.0.1:{closed_port()}/files/data.npy"
    (tmp_path / "mirror").mkdir()
    with pytest.raises(DownloadError, match="set NEURALIGN_MIRROR") as err:
        download(url, workdir / "data.npy", mirror=tmp_path / "mirror", retries=1, backoff=0)
    assert "127.0.0.1/files/data.npy" in str(err.value)
    assert "The mirror has no" in str(err.value)
    assert_clean(workdir, workdir / "data.npy")


def make_zip(path: Path, entries: list[zipfile.ZipInfo | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for entry in entries:
            zf.writestr(entry, "content")
    return path


def symlink_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_extract_zip_keeps_folders(tmp_path):
    archive = make_zip(tmp_path / "ok.zip", ["top/image0001.jpg", "image0002.jpg"])
    files = extract_zip(archive, tmp_path / "out")
    assert files == [tmp_path / "out/top/image0001.jpg", tmp_path / "out/image0002.jpg"]
    assert all(f.read_text() == "content" for f in files)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("../x", "'..' component"),
        ("images/../../x", "'..' component"),
        ("..\\x", "'..' component"),
        ("/etc/x", "absolute path"),
        ("C:/x", "absolute path"),
        (symlink_entry("images/link"), "symbolic link"),
    ],
)
def test_unsafe_zip_is_refused_before_extracting(tmp_path, workdir, bad, message):
    archive = make_zip(tmp_path / "bad.zip", ["images/first.jpg", bad])
    with pytest.raises(DownloadError, match=message):
        extract_zip(archive, workdir)
    assert sorted(p.name for p in workdir.iterdir()) == ["unrelated.txt"]


def test_corrupt_zip_is_a_download_error(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(DownloadError, match="bad.zip: not a valid zip"):
        extract_zip(tmp_path / "bad.zip", tmp_path / "out")


class Server:
    """A loopback HTTP server that answers each request by the next planned behaviour."""

    def __init__(self, plans: list[str]):
        self.plans, self.ranges = list(plans), []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                server.ranges.append(self.headers.get("Range"))
                server.respond(self, server.plans.pop(0) if server.plans else "full")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/files/responses.npy"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @staticmethod
    def respond(handler, plan: str) -> None:
        start = int(handler.headers.get("Range", "bytes=0-")[6:-1])
        if plan in ("error503", "error404"):
            handler.send_error(int(plan[5:]))
            return
        body = b"<!DOCTYPE html><html>rate limited</html>" if plan == "html" else PAYLOAD
        partial = plan != "ignore_range" and start > 0
        handler.send_response(206 if partial else 200)
        if partial:
            handler.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            start = 0
        handler.send_header("Content-Length", str(len(body) - start))
        handler.end_headers()
        sent = body[start:]
        handler.wfile.write(sent[: len(sent) // 2] if plan == "truncate" else sent)


@pytest.fixture
def serve():
    servers = []

    def start(*plans: str) -> Server:
        servers.append(Server(list(plans)))
        return servers[-1]

    yield start
    for server in servers:
        server.httpd.shutdown()
        server.httpd.server_close()


def fetch_plain_http(url: str, dest: Path, retries: int = 3) -> Path:
    """The production path after the (https-only) scheme check, pointed at loopback HTTP."""
    return dl._download(
        url,
        dest,
        sha256=PAYLOAD_SHA,
        size=len(PAYLOAD),
        mirror=None,
        retries=retries,
        backoff=0,
        timeout=5,
        progress=False,
    )


def test_truncated_transfer_is_resumed_with_range(serve, workdir):
    server = serve("truncate", "full")
    dest = fetch_plain_http(server.url, workdir / "responses.npy")
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges == [None, f"bytes={len(PAYLOAD) // 2}-"]


def test_partial_file_from_an_earlier_run_is_resumed(serve, workdir):
    server = serve("full")
    (workdir / "responses.npy.part").write_bytes(PAYLOAD[:1000])
    assert fetch_plain_http(server.url, workdir / "responses.npy").read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=1000-"]


def test_server_ignoring_range_restarts_cleanly(serve, workdir):
    server = serve("ignore_range")
    (workdir / "responses.npy.part").write_bytes(b"garbage")
    assert fetch_plain_http(server.url, workdir / "responses.npy").read_bytes() == PAYLOAD


def test_server_error_is_retried(serve, workdir):
    server = serve("error503", "error503", "full")
    assert fetch_plain_http(server.url, workdir / "responses.npy").read_bytes() == PAYLOAD
    assert len(server.ranges) == 3


def test_not_found_is_not_retried(serve, workdir):
    server = serve("error404")
    with pytest.raises(DownloadError, match="HTTP 404"):
        fetch_plain_http(server.url, workdir / "responses.npy")
    assert len(server.ranges) == 1
    assert_clean(workdir, workdir / "responses.npy")


def test_html_from_server_is_rejected(serve, workdir):
    server = serve("html")
    with pytest.raises(DownloadError, match="HTML page"):
        fetch_plain_http(server.url, workdir / "responses.npy")
    assert_clean(workdir, workdir / "responses.npy")


def test_giving_up_keeps_the_partial_file_for_the_next_run(serve, workdir):
    server = serve(*["truncate"] * 2)
    dest = workdir / "responses.npy"
    with pytest.raises(DownloadError, match="failed after 2 attempts") as err:
        fetch_plain_http(server.url, dest, retries=1)
    assert "resumed on the next run" in str(err.value)
    assert not dest.exists()
    assert dest.with_name("responses.npy.part").stat().st_size == 3 * len(PAYLOAD) // 4
    assert fetch_plain_http(server.url, dest).read_bytes() == PAYLOAD


def test_sha1_only_files_are_verified_by_sha1(tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "example.org").mkdir(parents=True)
    (mirror / "example.org" / "data.bin").write_bytes(PAYLOAD)
    good = RemoteFile("https://example.org/data.bin", sha1=hashlib.sha1(PAYLOAD).hexdigest())
    assert good.fetch(tmp_path / "ok.bin", mirror=mirror, progress=False).read_bytes() == PAYLOAD
    good.verify(tmp_path / "ok.bin")
    bad = RemoteFile("https://example.org/data.bin", sha1="0" * 40)
    with pytest.raises(DownloadError, match="sha1 is"):
        bad.fetch(tmp_path / "bad.bin", mirror=mirror, progress=False)
    assert not (tmp_path / "bad.bin").exists()


def test_md5_only_files_are_verified_by_md5(tmp_path):
    mirror = tmp_path / "mirror"
    put(mirror, URL, PAYLOAD)
    good = RemoteFile(URL, md5=hashlib.md5(PAYLOAD).hexdigest(), size=len(PAYLOAD))
    assert good.fetch(tmp_path / "ok.npy", mirror=mirror, progress=False).read_bytes() == PAYLOAD
    with pytest.raises(DownloadError, match="md5 is"):
        RemoteFile(URL, md5="0" * 32).fetch(tmp_path / "bad.npy", mirror=mirror, progress=False)
    assert not (tmp_path / "bad.npy").exists()


def test_sha256_prefix_in_a_file_name_is_verified(tmp_path):
    mirror = tmp_path / "mirror"
    put(mirror, URL, PAYLOAD)
    RemoteFile(URL, sha256_prefix=PAYLOAD_SHA[:8]).fetch(tmp_path / "ok.npy", mirror=mirror)
    with pytest.raises(DownloadError, match="does not start with 00000000"):
        RemoteFile(URL, sha256_prefix="00000000").fetch(tmp_path / "bad.npy", mirror=mirror)


def test_trust_on_first_use_records_then_verifies_then_refuses(tmp_path):
    """First download recorded in the lock file, second verified, a changed file refused."""
    mirror, lock = tmp_path / "mirror", DownloadLock(tmp_path / "config" / "downloads.lock")
    remote = RemoteFile(URL)  # no published checksum
    put(mirror, URL, PAYLOAD)
    first = remote.fetch(tmp_path / "a" / "responses.npy", lock=lock, mirror=mirror)
    assert first.read_bytes() == PAYLOAD
    assert lock.entries() == {URL: LockEntry(PAYLOAD_SHA, len(PAYLOAD))}
    assert f"{PAYLOAD_SHA} {len(PAYLOAD)} {URL}" in lock.path.read_text().splitlines()
    recorded = lock.path.read_text()

    # a second machine (another destination) verifies against the record
    second = remote.fetch(tmp_path / "b" / "responses.npy", lock=lock, mirror=mirror)
    assert second.read_bytes() == PAYLOAD and lock.path.read_text() == recorded
    remote.verify(second, lock=lock)

    # the published file changes: refused, naming the file and both hashes; nothing kept
    changed = PAYLOAD[::-1]
    put(mirror, URL, changed)
    dest = tmp_path / "c" / "responses.npy"
    with pytest.raises(DownloadError) as err:
        remote.fetch(dest, lock=lock, mirror=mirror)
    message = str(err.value)
    assert str(dest) in message and PAYLOAD_SHA in message
    assert hashlib.sha256(changed).hexdigest() in message and str(lock.path) in message
    assert not dest.exists() and not dest.with_name("responses.npy.part").exists()
    assert lock.path.read_text() == recorded
    # a changed copy already on disk (e.g. a converter's input) says to delete it and rerun
    second.write_bytes(changed)
    with pytest.raises(DownloadError, match=f"delete {second} and rerun"):
        remote.verify(second, lock=lock)


def test_lock_entry_written_meanwhile_by_another_job_must_match(tmp_path, monkeypatch):
    lock = DownloadLock(tmp_path / "downloads.lock")
    other = "https://example.org/other.bin"
    (tmp_path / "other.bin").write_bytes(b"other")
    lock.record(other, tmp_path / "other.bin", tmp_path / "other.bin")
    mirror = tmp_path / "mirror"
    put(mirror, URL, PAYLOAD)
    real_get = DownloadLock.get

    def race(self, url):  # the entry appears after this job looked it up
        return None if url == URL else real_get(self, url)

    monkeypatch.setattr(DownloadLock, "get", race)
    (tmp_path / "elsewhere.npy").write_bytes(PAYLOAD[::-1])
    lock.record(URL, tmp_path / "elsewhere.npy", tmp_path / "elsewhere.npy")
    with pytest.raises(DownloadError, match="differs from the sha256"):
        RemoteFile(URL).fetch(tmp_path / "responses.npy", lock=lock, mirror=mirror)
    assert not (tmp_path / "responses.npy").exists()
    assert set(lock.entries()) == {URL, other}  # both jobs' lines survive


def test_parallel_first_downloads_keep_every_line(tmp_path):
    """Several download jobs record at once: the exclusive lock loses no line."""
    import multiprocessing

    lock_path = tmp_path / "downloads.lock"
    files = []
    for k in range(8):
        path = tmp_path / f"f{k}.bin"
        path.write_bytes(bytes([k]) * (k + 1))
        files.append((f"https://example.org/f{k}.bin", str(path)))
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        pool.starmap(_record, [(str(lock_path), url, path) for url, path in files])
    entries = DownloadLock(lock_path).entries()
    assert sorted(entries) == sorted(url for url, _ in files)
    assert all(entries[url].size == int(url[-5]) + 1 for url, _ in files)


def _record(lock_path: str, url: str, path: str) -> None:
    DownloadLock(lock_path).record(url, path, path)


def test_malformed_lock_line_is_named(tmp_path):
    lock = DownloadLock(tmp_path / "downloads.lock")
    lock.path.write_text("# comment\nnot-a-hash 12 https://example.org/x\n")
    with pytest.raises(DownloadError, match="downloads.lock, line 2"):
        lock.entries()


def test_figshare_files_are_verified_by_the_md5_figshare_lists(tmp_path):
    mirror, lock = tmp_path / "mirror", DownloadLock(tmp_path / "downloads.lock")
    remote = FigshareFile(7387130, 24080120, "Subject1.h5")
    listing = [
        {"id": 1, "name": "other.h5", "size": 3, "computed_md5": "0" * 32},
        {
            "id": 24080120,
            "name": "Subject1.h5",
            "size": len(PAYLOAD),
            "computed_md5": hashlib.md5(PAYLOAD).hexdigest(),
        },
    ]
    put(mirror, remote.listing_url, json.dumps(listing).encode())
    put(mirror, remote.url, PAYLOAD)
    dest = remote.fetch(tmp_path / "Subject1.h5", lock=lock, mirror=mirror, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert not list(tmp_path.glob("*figshare*"))  # the listing is not kept
    assert lock.get(remote.url) == LockEntry(PAYLOAD_SHA, len(PAYLOAD))
    listing[1]["computed_md5"] = "f" * 32
    put(mirror, remote.listing_url, json.dumps(listing).encode())
    with pytest.raises(DownloadError, match="md5 is"):
        remote.fetch(tmp_path / "again.h5", lock=lock, mirror=mirror, progress=False)
    put(mirror, remote.listing_url, json.dumps(listing[:1]).encode())
    with pytest.raises(DownloadError, match="listing has no md5 and size of file 24080120"):
        remote.fetch(tmp_path / "again.h5", lock=lock, mirror=mirror, progress=False)
