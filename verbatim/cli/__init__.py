"""The ``verbatim`` command line, the top floor: it parses options and calls the flows, the exports, the store and
the web app below it (see ``verbatim.cli.main``)."""
