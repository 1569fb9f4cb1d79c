import pytest

from waterworks.assets.source.catalog import glob_match, load_catalog
from waterworks.pipelines.settings import project_root

SOURCES = project_root() / "assets" / "source" / "sources.yaml"


@pytest.mark.parametrize(("path", "pattern", "expected"), [
    ("crm/a.csv", "crm/*.csv", True),
    ("crm/sub/a.csv", "crm/*.csv", False),
    ("docs/faq/a.md", "docs/**/*.md", True),
    ("docs/a.md", "docs/**/*.md", True),
    ("docs/a/b/c.md", "docs/**/*.md", True),
    ("other/a.md", "docs/**/*.md", False),
])
def test_glob_match(path, pattern, expected):
    assert glob_match(path, pattern) is expected


def test_shipped_catalog_routes_the_estate_layout():
    catalog = load_catalog(SOURCES)
    assert [s.id for s in catalog.route("crm/customers_gb18030.csv")] == ["crm_customers"]
    assert [s.id for s in catalog.route("erp/erp.sqlite")] == ["erp_customers", "erp_orders"]
    assert catalog.route("inbox/scan.pdf") == []
    assert catalog.ignored("manifest.jsonl") and catalog.ignored("crm/.hidden.csv")
    assert catalog.get("hr_employees").classification.value == "restricted"


def test_bad_catalog_errors_name_the_file_and_source(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  crm:\n    description: x\n    owner: nobody\n    classification: internal\n"
                    "    legal_basis: x\n    retention_days: 1\n    patterns: ['*.csv']\n    format: csv\n")
    with pytest.raises(ValueError, match=rf"(?s){path}.*'crm'.*owner"):
        load_catalog(path)
    path.write_text("sources:\n  crm:\n    description: x\n    owner: team:x\n    classification: secret\n"
                    "    legal_basis: x\n    retention_days: 1\n    patterns: ['*.csv']\n    format: csv\n")
    with pytest.raises(ValueError, match="classification"):
        load_catalog(path)
    path.write_text("sources:\n  crm:\n    description: x\n    owner: team:x\n    classification: public\n"
                    "    legal_basis: x\n    retention_days: 1\n    patterns: ['*.csv']\n    format: csv\n"
                    "    encoding: klingon\n")
    with pytest.raises(ValueError, match="klingon"):
        load_catalog(path)
