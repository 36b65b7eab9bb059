"""Channels in alerts.yaml are checked when the file is loaded: a wrong option gives one line naming the
file, line and key, a secret written into the file is refused, and every shipped example is valid."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alerts.dispatcher import open_channels
from config.errors import ConfigError
from config.loader import DEFAULT_DIR, load_file
from config.models import AlertsFile

HEAD = "min_level: 社会热点问题\nchannels:\n  - name: console\n    type: console\n"


def load(tmp_path: Path, text: str) -> AlertsFile:
    path = tmp_path / "alerts.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return load_file(path, AlertsFile)


@pytest.mark.parametrize(
    ("channel", "line", "key", "reason"),
    [
        (
            (
                "  - name: duty-dingtalk\n    type: dingtalk\n    options:\n"
                "      url: https://oapi.dingtalk.com/robot/send?access_token=abc\n"
            ),
            8,
            "channels[1].options",
            (
                "url：密钥、密码和机器人地址不写在 alerts.yaml 里；请把它放进环境变量（或不入库的 .env 文件），"
                "在这里用 url_env 写出变量名"
            ),
        ),
        (
            (
                "  - name: office-mail\n    type: email\n    options:\n      host: smtp.example.gov.cn\n"
                "      from: yuqing@example.gov.cn\n      password: hunter2\n"
            ),
            8,
            "channels[1].options",
            "password：密钥、密码和机器人地址不写在 alerts.yaml 里",
        ),
        (
            "  - name: duty-dingtalk\n    type: dingtalk\n    options:\n      url_evn: YUQING_DINGTALK_URL\n",
            8,
            "channels[1].options",
            "url_evn: 不认识这个键（多半是键名拼错了，或放错了层级）",
        ),
        (
            "  - name: duty-dingtalk\n    type: dingtalk\n    options: {}\n",
            7,
            "channels[1].options",
            "url_env: 缺少这一项，必须填写",
        ),
        (
            (
                "  - name: county-wecom\n    type: wecom\n    options:\n      url_env: YUQING_WECOM_URL\n"
                "      msgtype: markdown\n      mentions: {清丰县委宣传部: ['13900000000']}\n"
            ),
            8,
            "channels[1].options",
            "企业微信机器人只有在 text 消息里才能按手机号 @人：请写 msgtype: text",
        ),
        (
            (
                "  - name: duty-dingtalk\n    type: dingtalk\n    options:\n      url_env: YUQING_DINGTALK_URL\n"
                "      mentions: {市网信办值班室: ['138-0000-0000']}\n"
            ),
            8,
            "channels[1].options",
            'mentions.市网信办值班室.0: 应为手机号（11 位数字），收到字符串 "138-0000-0000"',
        ),
        (
            (
                "  - name: office-mail\n    type: email\n    options:\n      host: smtp.example.gov.cn\n"
                "      from: yuqing@example.gov.cn\n      user: yuqing\n"
            ),
            8,
            "channels[1].options",
            "写了 user 却没写 password_env",
        ),
        (
            "  - name: duty-dingtalk\n    type: dingtalk\n    options:\n      url_env: https://oapi.dingtalk.com\n",
            8,
            "channels[1].options",
            "url_env: 应为环境变量名",
        ),
        ("fallback: [office-mail]\n", 5, "fallback", "没有名为“office-mail”的渠道（channels 里有：console）"),
    ],
)
def test_a_bad_channel_gives_one_line_with_file_line_key_and_reason(
    tmp_path: Path, channel: str, line: int, key: str, reason: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, channel)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'alerts.yaml'}:{line}: {key}: ")
    assert reason in message


def test_a_secret_in_a_value_never_reaches_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "  - name: b\n    type: wecom\n    options:\n      key: 5f1c0d9a-7e2b-4c61\n")
    assert "5f1c0d9a" not in str(caught.value)


def test_every_commented_example_in_the_shipped_file_is_valid_and_builds(tmp_path: Path) -> None:
    shipped = (DEFAULT_DIR / "alerts.yaml").read_text(encoding="utf-8")
    # Un-comment the example channels the way an office would.
    block = shipped[shipped.index("  # 示例") : shipped.index("\n\n", shipped.index("  # 示例"))]
    examples = "\n".join(re.sub(r"^  # ", "  ", row) for row in block.splitlines()[1:])
    enabled = shipped.replace(block, examples).replace("fallback: []", "fallback: [office-mail, console]")
    path = tmp_path / "alerts.yaml"
    path.write_text(enabled, encoding="utf-8")
    config = load_file(path, AlertsFile)
    assert [c.type for c in config.channels] == ["console", "email", "dingtalk", "wecom", "feishu", "webhook"]
    variables = re.findall(r"_env: (YUQING_[A-Z_]+)", enabled)
    assert len(variables) == 8
    environ = dict.fromkeys(variables, "https://example.gov.cn/hook?key=k")
    channels, unavailable = open_channels(config, environ=environ)
    assert unavailable == {}
    assert sorted(channels) == sorted(c.name for c in config.channels)
    # Without the variables, only the console can be built, and each other channel says what is missing.
    channels, unavailable = open_channels(config, environ={})
    assert list(channels) == ["console"]
    assert unavailable["duty-dingtalk"] == "环境变量 YUQING_DINGTALK_URL 未设置"
    assert unavailable["office-mail"] == "环境变量 YUQING_SMTP_PASSWORD 未设置"


def test_the_shipped_default_needs_no_secret() -> None:
    config = load_file(DEFAULT_DIR / "alerts.yaml", AlertsFile)
    channels, unavailable = open_channels(config, environ={})
    assert list(channels) == ["console"]
    assert unavailable == {}
