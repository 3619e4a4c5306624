"""Supporter register (server/domain/workbench/supporters.py): migration of free text with
duplicate detection, candidate pairs, load and availability mismatches."""

from __future__ import annotations

from datetime import date

from server.domain.workbench.common import Plan, PlanSupporter
from server.domain.workbench.supporters import (OVERLOAD_THRESHOLD, Availability, SupporterEntry, SupporterKind,
                                                candidate_pairs, guess_kind, migrate_free_text, supporter_load)


def plan(pid: str, *supporters: PlanSupporter) -> Plan:
    return Plan(pid, f"person-{pid}", supporters=supporters)


def test_same_normalised_name_and_phone_is_one_entry():
    m = migrate_free_text([
        plan("L1", PlanSupporter("山田 太郎", "近隣住民", phone="042-325-0011")),
        plan("L2", PlanSupporter("山田　太郎", "近所", phone="０４２（３２５）００１１")),
        plan("L3", PlanSupporter("山田太郎", "近隣", phone="0423250011")),
    ])
    assert len(m.entries) == 1
    assert m.links == {"L1": ("S00001",), "L2": ("S00001",), "L3": ("S00001",)}
    assert m.entries[0].kind == SupporterKind.neighbour and m.candidates == ()


def test_same_name_other_phone_is_a_candidate_not_merged():
    m = migrate_free_text([plan("L1", PlanSupporter("山田 太郎", phone="042-325-0011")),
                           plan("L2", PlanSupporter("山田 太郎", phone="090-1234-5678")),
                           plan("L3", PlanSupporter("山田 太郎"))])
    assert len(m.entries) == 3
    assert {(c.a, c.b, c.reason) for c in m.candidates} == {
        ("S00001", "S00002", "same_name_other_phone"), ("S00001", "S00003", "same_name_other_phone"),
        ("S00002", "S00003", "same_name_other_phone")}


def test_kana_only_match_is_a_candidate():
    existing = [SupporterEntry("E1", "佐藤 花子", SupporterKind.minsei, name_kana="さとう はなこ", phone="042-000-0001")]
    m = migrate_free_text([plan("L1", PlanSupporter("サトウ ハナコ", "民生委員", phone="090-0000-0002"))], existing)
    assert len(m.entries) == 2
    assert [(c.a, c.b, c.reason) for c in m.candidates] == [("E1", "S00001", "kana_match")]


def test_existing_entry_matched_and_linked_supporter_kept():
    existing = [SupporterEntry("E1", "鈴木 一郎", SupporterKind.family, phone="090-1111-2222")]
    m = migrate_free_text([plan("L1", PlanSupporter("鈴木一郎", "長男", phone="090-1111-2222"),
                                PlanSupporter("誰か", supporter_id="E9"))], existing)
    assert m.links["L1"] == ("E1", "E9")
    assert [e.id for e in m.entries] == ["E1"]


def test_kind_guessed_from_relation():
    assert guess_kind("長男") == SupporterKind.family
    assert guess_kind("民生委員") == SupporterKind.minsei
    assert guess_kind("自主防災組織") == SupporterKind.jishubo
    assert guess_kind("町内会長") == SupporterKind.jichikai
    assert guess_kind("ケアマネ") == SupporterKind.care_manager
    assert guess_kind("訪問介護事業所") == SupporterKind.business
    assert guess_kind("") == SupporterKind.other


def test_distinct_people_make_no_pairs():
    entries = [SupporterEntry("A", "山田 太郎", phone="1"), SupporterEntry("B", "山田 次郎", phone="1")]
    assert candidate_pairs(entries) == []


def test_load_overloaded_above_threshold():
    entries = {"S1": SupporterEntry("S1", "多忙 さん", SupporterKind.neighbour),
               "S2": SupporterEntry("S2", "普通 さん", SupporterKind.neighbour)}
    links = {f"L{i}": ("S1",) for i in range(OVERLOAD_THRESHOLD + 1)}
    links["L99"] = ("S2",)
    load = supporter_load(links, entries)
    assert load["S1"].count == 11 and load["S1"].overloaded and load["S1"].flagged
    assert not load["S2"].overloaded and not load["S2"].flagged
    links.pop("L0")
    assert not supporter_load(links, entries)["S1"].overloaded  # exactly 10 is not over


def test_minsei_has_a_higher_threshold():
    entries = {"M": SupporterEntry("M", "民生 委員", SupporterKind.minsei)}
    links = {f"L{i}": ("M",) for i in range(30)}
    assert not supporter_load(links, entries)["M"].overloaded


def test_availability_mismatches_and_outside_city():
    entries = {"D": SupporterEntry("D", "日中 さん", availability=Availability.daytime_only),
               "N": SupporterEntry("N", "夜間 さん", availability=Availability.night_ok, lives_outside_city=True)}
    links = {"L1": ("D", "N"), "L2": ("D",)}
    load = supporter_load(links, entries, needs_night={"L1"})
    assert load["D"].night_mismatch == ("L1",) and load["D"].day_mismatch == ()
    assert load["N"].day_mismatch == ("L1",) and load["N"].outside_city


def test_elderly_from_birth_date_or_flag():
    assert SupporterEntry("A", "a", birth_date=date(1950, 1, 1)).is_elderly(date(2026, 1, 1))
    assert not SupporterEntry("A", "a", birth_date=date(1962, 1, 2)).is_elderly(date(2026, 1, 1))
    assert SupporterEntry("A", "a", elderly=True).is_elderly(date(2026, 1, 1))


def test_star_pairs_grow_with_the_group_not_its_square():
    from server.domain.workbench.supporters import SupporterEntry, candidate_pairs
    group = [SupporterEntry(f"S{i:03d}", "本町自主防災会", phone=f"090-0000-{i:04d}") for i in range(30)]
    assert len(candidate_pairs(group)) == 30 * 29 // 2
    star = candidate_pairs(group, star=True)
    assert len(star) == 29 and {p.a for p in star} == {"S000"}
