from django.contrib import admin

from vipcare.sales.models import ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["started_at", "kind", "file_name", "status", "rows_total", "rows_written", "rows_skipped",
                    "rows_rejected"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request):
        return False
