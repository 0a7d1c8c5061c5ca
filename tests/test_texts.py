"""What residents and staff read: every text as a new user would meet it, on the console."""
from __future__ import annotations


def test_quoted_words_leave_out_the_tag_that_only_told_the_bot_what_they_were(console):
    sent = console.run("""
#投诉 3号楼2单元电梯又坏了
#微心愿 想请人帮忙换一下厨房的灯泡
/as 张三
#报修 3号楼2单元电梯又坏了，按钮没反应
/as 李建国
/in 私聊
详情 1
""")
    quoted = console.seen_by("李建国", sent) + console.seen_by("陈志远", sent)
    assert not [text for text in quoted if "#" + "投诉" in text or "#微心愿" in text or "#报修" in text]
    assert "内容：3号楼2单元电梯又坏了" in console.seen_by("李建国", sent)[0]
    assert console.seen_by("陈志远", sent)[0].startswith("微心愿#2（3号楼）：想请人帮忙换一下厨房的灯泡")
    assert "又有居民（张三）反映：3号楼2单元电梯又坏了，按钮没反应" in console.seen_by("李建国", sent)[2]


def test_staff_texts_about_a_micro_wish_call_it_a_micro_wish(console):
    sent = console.run("""
#微心愿 想请人帮忙换一下厨房的灯泡
/as 李建国
/in 私聊
接单 1
进展 1 已约好周六上门
办结 1 已换好
/as 王阿姨
/in 3号楼业主群
满意
""")
    staff = console.seen_by("李建国", sent)
    assert staff[0].startswith("新微心愿#1：生活帮扶·3号楼")
    assert "微心愿#1 的进展已记录并告知居民。" in staff
    assert staff[-1] == "微心愿#1 居民评价 5 分，已关闭。"
    assert not [text for text in staff if "诉求#1" in text]


def test_an_empty_list_says_how_many_rather_than_ending_in_a_colon(console):
    sent = console.run("/as 张伟\n/in 私聊\n我的\n/as 王阿姨\n我的诉求")
    assert console.seen_by("张伟", sent) == ["待我处理：0 件"]
    assert console.seen_by("王阿姨", sent) == ["我的诉求：0 件"]
