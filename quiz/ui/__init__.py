"""Streamlit views: a thin shell over the core. Each page is one module with a ``render()``."""
