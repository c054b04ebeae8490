"""Copies a few held-out prompts into test/fixtures/language for the service's tests.

For each held-out speaker: the first prompts, in file-name order, with 1.5 to 4 s of speech
(chosen by length only, not by what the model answers). Audio is the corpus's 8 kHz WAV of the
package's file, unchanged otherwise. fixtures.json lists them with their speaker and true tag.
"""
import csv
import json
import os
import shutil
import sys

from train import SR, read_wav, trim

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "test", "fixtures", "language")
PACKAGES = {
    "heldout-es-co": "asterisk-prompt-es-co",
    "heldout-fr-armelle": "asterisk-prompt-fr-armelle",
    "heldout-it-menardi": "asterisk-prompt-it-menardi-wav",
}


def main(per_speaker=3):
    index = os.path.join(HERE, "work", "corpus", "index.tsv")
    rows = [r for r in csv.DictReader(open(index), delimiter="\t") if r["split"] == "heldout"]
    os.makedirs(OUT, exist_ok=True)
    items = []
    for spk in sorted(PACKAGES):
        chosen = 0
        for r in sorted((r for r in rows if r["speaker"] == spk), key=lambda r: r["path"]):
            if chosen == per_speaker:
                break
            if not 1.5 * SR <= len(trim(read_wav(r["path"]))) <= 4 * SR:
                continue
            name = f"{spk.removeprefix('heldout-')}_{os.path.basename(r['path'])}"
            shutil.copyfile(r["path"], os.path.join(OUT, name))
            items.append({"file": name, "speaker": spk, "package": PACKAGES[spk], "tag": r["tags"],
                          "language": r["tags"].split("-")[0]})
            chosen += 1
    with open(os.path.join(OUT, "fixtures.json"), "w") as f:
        json.dump({"items": items}, f, indent=2)
        f.write("\n")
    print(f"{len(items)} prompts -> {OUT}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
