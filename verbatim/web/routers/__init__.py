"""The app's pages, one router per family: login, browsing, decisions, agreement (and the analyses, downloads and
accounts pages, and the JSON API in ``verbatim.web.api``)."""
