def maps_targets():
    """Outputs of this stage that `rule all` builds."""
    return []
