"""A message template's channels are a checkbox group with Chinese labels (no JSON to type); what is
posted is saved as the same list, an unknown channel is a Chinese field error and nothing is saved."""

from django.urls import reverse

from foodrisk.core.models import MessageTemplate
from foodrisk.core.testing import ScopedTestCase


class TemplateChannelsTests(ScopedTestCase):
    def setUp(self):
        super().setUp()
        self.grant("core.view_messagetemplate", "core.add_messagetemplate", "core.change_messagetemplate")
        self.template = MessageTemplate.objects.create(code="t_notice", name="测试通知", channels=["inapp"],
                                                       subject="【通知】{{ what }}", body="内容：{{ what }}")
        self.url = reverse("core:messagetemplate_edit", args=[self.template.pk])

    def data(self, **changes):
        return {"code": "t_notice", "name": "测试通知", "subject": "【通知】{{ what }}", "body": "内容：{{ what }}",
                "enabled": "on", **changes}

    def test_the_form_shows_checkboxes_with_chinese_labels(self):
        page = self.client.get(self.url).content.decode()
        for value, label in (("inapp", "站内消息"), ("email", "电子邮件"), ("sms", "短信")):
            self.assertIn(f'type="checkbox" name="channels" value="{value}"', page)
            self.assertIn(label, page)
        self.assertRegex(page, r'value="inapp"[^>]*checked')
        self.assertNotRegex(page, r'<textarea[^>]*name="channels"')
        self.assertIn("发送渠道", page)

    def test_posted_channels_are_saved_as_the_list(self):
        response = self.client.post(self.url, self.data(channels=["email", "sms"]))
        self.assertEqual(response.status_code, 302, response.context and response.context["form"].errors)
        self.template.refresh_from_db()
        self.assertEqual(self.template.channels, ["email", "sms"])
        self.client.post(self.url, self.data())  # none ticked: no channel
        self.template.refresh_from_db()
        self.assertEqual(self.template.channels, [])

    def test_an_unknown_channel_is_a_chinese_error(self):
        response = self.client.post(self.url, self.data(channels=["fax"]))
        self.assertEqual(response.status_code, 200)
        self.assertIn("选择一个有效的选项", str(response.context["form"].errors["channels"]))
        self.template.refresh_from_db()
        self.assertEqual(self.template.channels, ["inapp"])
