"""The plugin author's kit: conformance base classes per family and pytest fixtures.

A third-party plugin proves it honours the contracts by subclassing, e.g.::

    from ropbench.testing.generator_contract import GeneratorContract

    class TestMyGenerator(GeneratorContract):
        generator_name = "my-generator"

The pytest plugin (``ropbench.testing.pytest_plugin``, auto-loaded through the
``pytest11`` entry point) provides the ``ropbench_registry`` fixture.
"""
