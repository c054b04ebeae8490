"""The model's classes (BCP-47 tags) and the language each belongs to."""

CLASSES = [
    "en-US", "en-GB", "en-GB-scotland", "en-029",
    "es-ES", "es-419",
    "fr-FR", "fr-CA",
    "it", "ru", "nl", "cs", "de",
    "pt-PT", "pt-BR",
    "zh", "yue",
    "pl", "sv",
]

LANGUAGE_OF = {c: c.split("-")[0] for c in CLASSES}
LANGUAGES = sorted(set(LANGUAGE_OF.values()))
