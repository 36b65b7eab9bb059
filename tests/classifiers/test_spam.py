from pathlib import Path

from classifiers.spam import collapse_repeats, detect, strip_injections

PAGE = Path(__file__).resolve().parents[1] / "data" / "spam" / "puyang_zhengban_2018_63.txt"


def test_injected_lottery_line_is_stripped_and_the_article_kept() -> None:
    text = PAGE.read_text(encoding="utf-8")
    cleaned, reasons = strip_injections(text)
    assert "开什么码" not in cleaned
    assert "政务舆情回应处置" in cleaned
    assert len(cleaned) > len(text) * 0.95
    assert reasons == ["已剔除插入的赌博/彩票信息「开什么码」"]
    assert not detect("关于在政务公开工作中进一步做好政务舆情回应处置的通知", cleaned).is_spam


def test_page_that_repeats_its_body_is_folded_to_one_copy() -> None:
    body = "濮阳市人民政府办公室关于做好舆情回应的通知。\n各县区要落实责任，及时回应社会关切。"
    folded, reasons = collapse_repeats(f"{body}\n{body}")
    assert folded == body
    assert reasons
    unchanged, none = collapse_repeats(body)
    assert (unchanged, none) == (body, [])


def test_spam_posts_are_recognised_and_genuine_ones_are_not() -> None:
    assert detect("香港六合彩开奖结果", "今晚特码资料，加微信领取").is_spam
    assert detect(None, "兼职刷单日结，加VX：abc123").is_spam
    genuine = detect("濮阳县一化工厂被指偷排废水", "村民反映工厂夜间偷排，河水发黑发臭。环保部门已介入调查。")
    assert not genuine.is_spam
    assert genuine.reasons == ()
