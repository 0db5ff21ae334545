"""ShipBridge's own date and number formats per language (settings.FORMAT_MODULE_PATH): only
what differs from Django's; everything else is Django's format for the language."""
