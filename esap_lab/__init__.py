"""esap-lab: the ESCAPE Science Analysis Platform in JupyterLab.

In a notebook: ``from esap_lab import basket`` (the server extension itself is loaded by
Jupyter Server; importing this package does not load it).
"""

from ._version import __version__


def _jupyter_server_extension_points():
    from .app import EsapLab

    return [{"module": "esap_lab", "app": EsapLab}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "esap-lab"}]


__all__ = ["__version__"]
