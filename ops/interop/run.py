"""Run other projects' interoperability suites against a fresh Roost on this
machine (docs/federation.md, "Interoperability suites"). Called by
scripts/interop; standard library only, since it runs on the project's
Python while the suites run in an environment of their own (.interop-venv),
installed from the package index (fediverse-pasture and feditest pinned).

    scripts/interop pasture
        fediverse-pasture's verify_actor: six actors of its own, each with
        another signature setup, fetch a Roost actor and post to its inbox;
        then WebFinger. Roost runs in insecure mode (plain http, loopback).

    scripts/interop feditest TESTS_DIR
        FediTest's WebFinger server tests (from a checkout of
        feditest-tests-fediverse at TESTS_DIR, which is not on the package
        index) with FediTest's in-process client against Roost, served as
        https://localhost behind a local TLS proxy on port 443 (so: as root)
        with a certificate made for the run.

Each prints what ran and passed, and exits non-zero when a case Roost is
expected to pass did not.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".interop-venv"
PACKAGES = ("fediverse-pasture==0.2.25", "feditest==0.5")
ROOST = Path(sys.executable).parent / "roost"

# fediverse-pasture's actors: alice and dean post unsigned (refused 401 by
# design, as Mastodon refuses them); the others sign, claire and frank only
# answer signed fetches of their own documents (Roost's key fetch is signed
# by its instance actor); dean, emily and frank have no username.
PASTURE_EXPECTED = {
    "alice": {"get_actor": True, "post_inbox": False},
    "bob": {"get_actor": True, "post_inbox": True},
    "claire": {"get_actor": True, "post_inbox": True},
    "dean": {"get_actor": True, "post_inbox": False},
    "emily": {"get_actor": True, "post_inbox": True},
    "frank": {"get_actor": True, "post_inbox": True},
    "webfinger": True,
}
# FediTest's WebFinger tests that a local run cannot pass whatever the
# server does: nothing listens on plain http://localhost, and the
# certificate is made for the run, trusted by nobody.
FEDITEST_ENVIRONMENT = {
    "webfinger.server.4__3_only_returns_jrd_in_response_to_https_requests"
    "::does_not_return_jrd_in_response_to_http",
    "webfinger.server.4__3_only_returns_jrd_in_response_to_https_requests"
    "::uses_valid_https_certificate",
}


def tools() -> Path:
    python = TOOLS / "bin" / "python"
    if not python.exists():
        subprocess.run(["uv", "venv", "-q", str(TOOLS)], check=True)
    subprocess.run(["uv", "pip", "install", "-q", "--python", str(python), *PACKAGES], check=True)
    return TOOLS / "bin"


def wait_for(url: str, timeout: float = 90, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5, context=context):
                return
        except Exception:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} never answered") from None
            time.sleep(0.5)


def start(stack: ExitStack, argv: list[str], log: Path, **kwargs: object) -> None:
    handle = log.open("w")
    process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, **kwargs)  # type: ignore[call-overload]

    def stop() -> None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        handle.close()

    stack.callback(stop)


def roost(stack: ExitStack, work: Path, port: int, env: dict[str, str]) -> dict[str, str]:
    env = {
        **os.environ,
        "ROOST_DATA_DIR": str(work / "roost"),
        "ROOST_SECRET_KEY": "interop-" + "k" * 40,
        **env,
    }
    subprocess.run(
        [
            str(ROOST),
            "accounts",
            "create",
            "alice",
            "--email",
            "alice@example.org",
            "--password",
            "pw-alice-1234567",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    start(stack, [str(ROOST), "serve", "--port", str(port)], work / "roost.log", env=env)
    return env


def pasture() -> int:
    bin_dir = tools()
    roost_port, pasture_port = 8391, 2919
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        roost(
            stack,
            work,
            roost_port,
            {"ROOST_DOMAIN": f"127.0.0.1:{roost_port}", "ROOST_FEDERATION_ALLOW_INSECURE": "true"},
        )
        (work / "pasture").mkdir()
        start(
            stack,
            [
                str(bin_dir / "python"),
                "-m",
                "fediverse_pasture.verify_actor",
                "--port",
                str(pasture_port),
                "--domain",
                f"127.0.0.1:{pasture_port}",
                "--timeout",
                "10",
            ],
            work / "pasture.log",
            cwd=work / "pasture",
        )
        wait_for(f"http://127.0.0.1:{roost_port}/.well-known/nodeinfo")
        wait_for(f"http://127.0.0.1:{pasture_port}/")
        actor = f"http://127.0.0.1:{roost_port}/users/alice"
        request = urllib.request.Request(
            f"http://127.0.0.1:{pasture_port}/?actor_uri={actor}",
            headers={"Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=180) as answer:
            result = json.loads(answer.read())["result"]
    failed = 0
    for name, expected in PASTURE_EXPECTED.items():
        got = result.get(name)
        ok = got == expected
        failed += not ok
        print(
            f"{'ok  ' if ok else 'FAIL'} pasture verify_actor {name}: {got} (expected {expected})"
        )
    print(
        f"fediverse-pasture verify_actor: {len(PASTURE_EXPECTED) - failed} of "
        f"{len(PASTURE_EXPECTED)} as expected"
    )
    return 1 if failed else 0


async def _proxy(cert: Path, key: Path, listen: int, target: int) -> None:
    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", target)
        except OSError:  # Roost not listening yet
            client_w.close()
            return
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = await asyncio.start_server(handle, "127.0.0.1", listen, ssl=context)
    async with server:
        await server.serve_forever()


def feditest(tests_dir: str) -> int:
    bin_dir = tools()
    tests = Path(tests_dir).resolve() / "tests"
    if not (tests / "webfinger" / "server").is_dir():
        raise SystemExit(f"{tests_dir} is no checkout of feditest-tests-fediverse")
    roost_port = 8393
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        cert, key = work / "cert.pem", work / "key.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
                "-days",
                "1",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
        roost(
            stack,
            work,
            roost_port,
            {"ROOST_DOMAIN": "localhost", "ROOST_PUBLIC_URL": "https://localhost"},
        )
        thread = threading.Thread(
            target=asyncio.run, args=(_proxy(cert, key, 443, roost_port),), daemon=True
        )
        thread.start()
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        wait_for("https://localhost/.well-known/nodeinfo", context=insecure)
        # Copied out of the checkout: FediTest loads every .py under its
        # tests directory, and a directory named "tests" clashes with its default.
        suite = work / "fttests"
        shutil.copytree(tests, suite, ignore=shutil.ignore_patterns("TEST-SOURCES"))
        (work / "client.json").write_text(json.dumps({"nodedriver": "ImpInProcessNodeDriver"}))
        (work / "server.json").write_text(
            json.dumps(
                {
                    "nodedriver": "roost_feditest.RoostSaasNodeDriver",
                    "parameters": {
                        "hostname": "localhost",
                        "app": "Roost",
                        "account": "alice",
                        "non_existing_account": "nobody",
                    },
                }
            )
        )
        tap = work / "results.tap"
        subprocess.run(
            [
                str(bin_dir / "feditest"),
                "run",
                "--testsdir",
                str(suite),
                "--nodedriversdir",
                str(Path(__file__).parent / "nodedrivers"),
                "--filter-regex",
                r"^webfinger\.server",
                "--node",
                f"client={work / 'client.json'}",
                "--node",
                f"server={work / 'server.json'}",
                "--tap",
                str(tap),
            ],
            cwd=work,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        lines = tap.read_text().splitlines()
    passed = failed = 0
    for line in lines:
        if line.startswith(("ok ", "not ok ")):
            name = line.split(" - ", 1)[1]
            ok = line.startswith("ok ")
            if ok:
                passed += 1
            elif name not in FEDITEST_ENVIRONMENT:
                failed += 1
            mark = "ok  " if ok else ("env " if name in FEDITEST_ENVIRONMENT else "FAIL")
            print(f"{mark} feditest {name}")
    print(
        f"FediTest WebFinger server tests: {passed} passed, {failed} failed, "
        f"{len(FEDITEST_ENVIRONMENT)} not passable on one machine"
    )
    return 1 if failed or not passed else 0


def main() -> int:
    if len(sys.argv) >= 2 and sys.argv[1] == "pasture":
        return pasture()
    if len(sys.argv) == 3 and sys.argv[1] == "feditest":
        return feditest(sys.argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
