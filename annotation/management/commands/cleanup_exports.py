from django.utils import timezone

from annotation.services.export_jobs_upkeep import export_keep_days, export_root, exports_cleanup
from elmtex_site.cli import ElmtexCommand


class Command(ElmtexCommand):
    help = (
        "Expire export files older than ELMTEX_EXPORT_KEEP_DAYS (0: keep forever) and remove the folders under "
        "ELMTEX_EXPORT_DIR whose export job or project no longer exists (deleting a project leaves its files)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list what would be removed; change nothing")

    def handle(self, *args, **opts):
        dry_run = opts["dry_run"]
        result = exports_cleanup(dry_run=dry_run)
        expire = "would expire" if dry_run else "expired"
        remove = "would remove" if dry_run else "removed"
        for job in result.expired:
            finished = timezone.localtime(job.finished_at).date().isoformat()
            self.stdout.write(f"{expire} export {job.pk} of {job.project.slug} (finished {finished}): {job.file_name}")
        for path, why in result.removed:
            self.stdout.write(f"{remove} {path} ({why})")
        for path, why in result.left:
            self.stdout.write(f"left alone {path} ({why})")
        days = export_keep_days()
        keep = f"kept {days} days" if days and days > 0 else "kept forever (ELMTEX_EXPORT_KEEP_DAYS=0)"
        self.stdout.write(f"{result.summary()}; files {keep}; in {export_root()}")
