"""docs/workflow.md is generated from the workflow tables, so the two cannot drift apart."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from cases.workflow import TABLES


def generated() -> str:
    out = StringIO()
    call_command("workflow_doc", stdout=out)
    return out.getvalue()


def test_the_committed_workflow_doc_is_the_generated_one():
    committed = (Path(settings.BASE_DIR) / "docs" / "workflow.md").read_text(encoding="utf-8")

    assert committed == generated(), (
        "docs/workflow.md is stale: python manage.py workflow_doc > docs/workflow.md"
    )


def test_the_doc_has_a_diagram_and_a_row_for_every_action():
    doc = generated()

    assert doc.count("stateDiagram-v2") == len(TABLES)
    for table in TABLES.values():
        for spec in table:
            assert f"| `{spec.name}` {spec.label} |" in doc
    assert "| `mediate` 调解期限 | 45 个工作日 | 60 日 |" in doc
