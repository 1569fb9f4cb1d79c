"""Training recipes in the torchtune manner: one readable module per method — setup, train, save — built from
the small components in models/. No Dagster here; the training assets call ``run``. Their settings live in
configs.py (torch-free), ``RECIPES`` names them."""

from .configs import RECIPES

__all__ = ["RECIPES"]
