"""GANs: non-saturating, least-squares and Wasserstein-GP losses; conditional variants."""
