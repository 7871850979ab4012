import socket
import threading
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db):
    """The real ASGI app (HTTP + WebSocket) served by uvicorn in a thread, on the test
    database. pytest-django's live_server speaks HTTP only."""
    import uvicorn

    from arena.asgi import application

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the ASGI server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def axe_blocking_violations(page) -> list[str]:
    """axe-core (the npm package, installed by `npm ci --prefix tests/e2e`) run on the page as it
    is now: one line per serious or critical violation, naming the rule and the elements."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is not installed at {AXE_JS}: run `npm ci --prefix tests/e2e`")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    results = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary)}));
        }"""
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): " + " | ".join(v["nodes"][:5])
        for v in results
        if v["impact"] in BLOCKING_IMPACTS
    ]


def within_first_screen(page, selector: str, height: int = 844) -> dict:
    """Where an element sits on the page (not in the viewport, which Playwright may have scrolled
    to reach it): its top and bottom from the top of the document, and whether both are within
    the first ``height`` pixels."""
    box = page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
            return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY}; }""",
        selector,
    )
    box["ok"] = 0 <= box["top"] and box["bottom"] <= height
    return box
