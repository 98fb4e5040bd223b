from django.contrib import admin

from vipcare.care.models import CareSettings, GiftItem, Occasion, Playbook


@admin.register(Playbook)
class PlaybookAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "action", "channel", "enabled", "priority"]
    list_editable = ["enabled"]

    def save_model(self, request, obj, form, change):
        # the service refuses sales words in care templates
        from vipcare.care.services import playbook_update

        if change:
            playbook_update(playbook=obj, **{f: getattr(obj, f) for f in ("name", "enabled", "template", "parameters",
                                                                          "priority", "channel")})
        else:
            super().save_model(request, obj, form, change)


admin.site.register(Occasion, list_display=["name", "kind", "starts_on", "min_rank", "call_min_rank"])
admin.site.register(GiftItem, list_display=["name", "cost_fen", "is_active"])
admin.site.register(CareSettings)
