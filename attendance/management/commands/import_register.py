"""python manage.py import_register FILE [FILE…] [--school URN] [--apply-valid] [--json]

Runs the import synchronously (no worker needed) through the same services as the upload page.
Several files, or a .zip of several schools' files, are imported as ONE run in one transaction.
Exit status: 0 applied, 1 rejected, 2 failed.
"""

import io
import json
import sys
import zipfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from attendance.models import ImportRun
from attendance.services import register_import_apply, register_import_claim, register_import_create

EXIT = {ImportRun.Status.APPLIED: 0, ImportRun.Status.REJECTED: 1, ImportRun.Status.FAILED: 2}


def run_as_dict(run: ImportRun) -> dict:
    return {
        "status": run.status,
        "import_id": run.pk,
        "format": run.format_detected,
        "schools": run.school_urns,
        "rows": run.rows,
        "marks": run.marks,
        "inserted": run.inserted,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "rejected": run.rejected,
        "error_count": run.error_count,
        "errors": [{"file": e.get("file", ""), "line": e.get("line"), "column": e.get("column"),
                    "value": e.get("value"), "message": e.get("message"),
                    **({"cell": e["cell"]} if "cell" in e else {})} for e in run.errors],
        "warnings": run.warnings,
        "legacy_code_mappings": run.legacy_code_mappings,
        "message": run.message,
        "seconds": round(run.duration.total_seconds(), 3) if run.duration else None,
    }


class Command(BaseCommand):
    help = "Import register exports (CSV, XLSX, CTF XML, or a .zip of them) into session marks."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--school", metavar="URN", default=None,
                            help="the school the files are for (omit when the files name "
                                 "their school: CTF LEA+Estab, a URN/LAEstab column)")
        parser.add_argument("--apply-valid", action="store_true",
                            help="apply the valid marks and list the rejected ones (default: "
                                 "all or nothing)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, **options):
        from schools.models import School

        school = None
        if options["school"]:
            school = School.objects.filter(urn=options["school"]).first()
            if school is None:
                raise CommandError(f"No school with URN {options['school']}.")
        paths = [Path(p) for p in options["files"]]
        for path in paths:
            if not path.is_file():
                raise CommandError(f"{path} is not a file.")
        if len(paths) == 1:
            filename, payload = paths[0].name, open(paths[0], "rb")
        else:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
                for path in paths:
                    bundle.write(path, arcname=path.name)
            buffer.seek(0)
            filename, payload = "files.zip", buffer
        mode = (ImportRun.Mode.APPLY_VALID if options["apply_valid"]
                else ImportRun.Mode.ALL_OR_NOTHING)
        with payload:
            run = register_import_create(file=payload, filename=filename, school=school,
                                         user=None, mode=mode, enqueue=False)
        register_import_claim(run_id=run.pk)
        run = register_import_apply(run_id=run.pk)
        if options["json"]:
            self.stdout.write(json.dumps(run_as_dict(run)))
        else:
            self.stdout.write(f"Import {run.pk} ({run.format_detected or 'unknown format'}): "
                              f"{run.status}. {run.message}")
            for error in run.errors:
                where = f"{error.get('file')} line {error.get('line')}" if error.get("line") \
                    else error.get("file")
                self.stdout.write(f"  {where}, {error.get('column')} "
                                  f"'{error.get('value')}': {error.get('message')}")
            if run.error_count > len(run.errors):
                self.stdout.write(f"  … and {run.error_count - len(run.errors)} more errors.")
            for warning in run.warnings:
                self.stdout.write(f"  warning: {warning.get('message')}")
        code = EXIT.get(run.status, 2)
        if code:
            sys.stdout.flush()
            raise SystemExit(code)
