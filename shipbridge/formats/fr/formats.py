# Dates as French readers write them in running text: "1 déc. 2026" (Django's default is the
# month in full, "1 décembre 2026"), and with the time "1 déc. 2026 14:05".
DATE_FORMAT = "j N Y"
DATETIME_FORMAT = "j N Y H:i"
