"""The Dagster wiring, one module per layer's assets: extract, star, warehouse, report; resources,
automation (jobs, schedules, sensor) and materialization metadata. ``pipelines/definitions.py``
gathers them; the code they call lives in the layer packages beside this one."""
