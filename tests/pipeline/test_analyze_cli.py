"""`yuqing analyze`: the analysts' tool. Its output shape is a contract; these tests pin it."""

import json

import pytest
from typer.testing import CliRunner

from commands.cli import app

LEVELS = {"一般性事项", "社会热点问题", "复杂敏感事件", "重大突发事态"}


@pytest.fixture(scope="module")
def analyse():
    runner = CliRunner()

    def run(*lines: str) -> list[dict]:
        result = runner.invoke(app, ["analyze"], input="\n".join(lines) + "\n")
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]

    return run


def test_every_field_has_its_documented_shape(analyse) -> None:
    (out,) = analyse(
        json.dumps({"text": "濮阳县柳屯镇一化工厂夜间向河道偷排废水，河水发黑发臭，村民投诉无人管。"})
    )
    assert isinstance(out["tokens"], list)
    assert "化工厂" in out["tokens"]
    assert isinstance(out["sentiment"], float)
    assert 0 <= out["sentiment"] <= 1
    assert out["polarity"] in {"negative", "neutral", "positive"}
    assert out["severity"]["level"] in LEVELS
    assert isinstance(out["severity"]["score"], float)
    assert out["severity"]["reasons"]
    assert out["territory"]["province"] == "河南省"
    assert out["territory"]["city"] == "濮阳市"
    assert out["territory"]["counties"] == ["濮阳县"]
    assert out["territory"]["townships"] == ["柳屯镇"]
    assert 0 < out["territory"]["confidence"] <= 1
    assert out["departments"] == ["生态环境"]
    assert set(out["responsible"]) >= {"first", "coordinate", "claim", "inform"}
    assert out["responsible"]["first"] == ["市生态环境局濮阳县分局"]
    assert out["spam"] is False
    assert any(rule["category"] == "生态环境" for rule in out["rules"])


def test_a_post_about_two_counties_lists_both(analyse) -> None:
    (out,) = analyse(json.dumps({"text": "范县和台前县沿黄滩区出现漫滩险情，群众正在转移。"}))
    assert out["territory"]["counties"] == ["范县", "台前县"]


def test_a_post_elsewhere_has_no_city(analyse) -> None:
    (out,) = analyse(json.dumps({"text": "北京今天举行马拉松比赛，数万名选手参加。"}))
    assert out["territory"]["city"] is None
    assert out["territory"]["counties"] == []


def test_lottery_spam_is_flagged(analyse) -> None:
    (out,) = analyse(json.dumps({"title": "今晚香港开什么码", "text": "六合彩特码资料大全，加微信领取"}))
    assert out["spam"] is True


def test_malformed_lines_are_named_and_the_rest_still_processed(analyse) -> None:
    outs = analyse(
        json.dumps({"text": "南乐县农民工讨薪无果，聚集在工地门口"}),
        "{not json",
        "[1, 2]",
        json.dumps({"text": ""}),
        json.dumps({"text": "清丰县一小区停暖多日，居民投诉没人管"}),
    )
    assert [o["line"] for o in outs] == [1, 2, 3, 4, 5]
    assert "error" not in outs[0]
    assert "error" not in outs[4]
    assert outs[1]["error"].startswith("第 2 行：不是有效的 JSON")
    assert outs[2]["error"] == "第 3 行：应为一个 JSON 对象（{...}），收到列表（2 项）"
    assert outs[3]["error"] == "第 4 行：字段 text 与 title 都为空，没有可分析的文字"
    assert outs[4]["territory"]["counties"] == ["清丰县"]


def test_national_division_data_keeps_other_cities_out(analyse) -> None:
    (out,) = analyse(json.dumps({"text": "河南信阳市平桥区王楼镇一养殖场污水横流，村民投诉"}))
    assert out["territory"]["city"] is None
    assert out["territory"]["counties"] == []
