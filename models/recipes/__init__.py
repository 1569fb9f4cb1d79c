"""Training recipes in the torchtune manner: one readable module per method — setup, train, save — built from
the small components in models/. No Dagster here; the training assets call ``run``."""
