"""Storage engines behind the store's one interface. Only this package imports happybase or lmdb."""
