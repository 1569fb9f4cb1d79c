"""A failed run says why, step by step, without quoting data: the plant's own explicit errors with their
message, anything else by its class alone."""

import dagster as dg

from waterworks.assets.datasets.catalog import single_select
from waterworks.pipelines.run import step_errors


@dg.op
def refused_query():
    single_select("SELECT 1; DROP TABLE customers")


@dg.op
def bad_cell():
    int("13800138000 is not a number")  # a library error whose message quotes the value


@dg.job
def failing():
    refused_query()
    bad_cell()


def test_step_errors_name_the_step_and_quote_only_the_plants_own_messages():
    with dg.DagsterInstance.ephemeral() as instance:
        result = failing.execute_in_process(instance=instance, raise_on_error=False)
        reasons = sorted(step_errors(instance, result.run_id))
    assert not result.success and len(reasons) == 2
    assert reasons[0] == "bad_cell: ValueError"
    assert reasons[1].startswith("refused_query: QueryRefused: ") and "SELECT" in reasons[1]
    assert "13800138000" not in " ".join(reasons)
