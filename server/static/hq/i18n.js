// Japanese first; English on request (the toggle in the header, remembered in localStorage).
// Static text carries data-i18n="key"; code asks t("key"). Labels of data values
// (safety status, open state …) come from the server with the data, in both languages.

const TEXT = {
  skip: ["集計とフィルターへ移動", "Skip to totals and filters"],
  app: ["つなぐ", "Tsunagu"],
  title: ["本部マップ", "HQ map"],
  map: ["地図", "Map"],
  panel: ["集計とフィルター", "Totals and filters"],
  signedInAs: ["利用者", "Signed in as"],
  "role.admin": ["システム管理者", "administrator"],
  "role.welfare_staff": ["福祉担当職員", "welfare staff"],
  "role.hq_viewer": ["災害対策本部", "disaster HQ"],
  loading: ["地図データを読み込んでいます…", "Loading map data…"],
  loadFailed: ["地図データを読み込めませんでした。再読み込みしてください。", "Could not load the map data. Please reload."],
  "live.connecting": ["接続中…", "Connecting…"],
  "live.open": ["ライブ更新中", "Live"],
  "live.retrying": ["再接続中…（表示は最後に受信した状態）", "Reconnecting… (showing the last state received)"],
  "live.closed": ["ライブ更新は停止しています", "Live updates stopped"],
  "live.updated": ["最終更新", "last update"],
  tilesFailed: ["背景地図を読み込めません（オフライン？）。避難所・要配慮者・町丁目の表示は使えます。",
    "The basemap cannot be loaded (offline?). Shelters, people and districts still work."],
  totals: ["全体の状況", "Overview"],
  "total.people": ["要配慮者", "People on the register"],
  "total.confirmed": ["安否確認済", "Safety confirmed"],
  "total.needs": ["要支援・負傷", "Need help or injured"],
  "total.unreachable": ["連絡つかず", "Not reachable"],
  "total.unchecked": ["未確認", "Not checked yet"],
  "total.unlocated": ["位置不明（地図に出ない人）", "Without location (not on the map)"],
  "total.shelters": ["開設中の避難所", "Shelters open"],
  "total.evacuees": ["避難者／定員（開設中）", "Evacuees / capacity (open shelters)"],
  "total.dwat": ["DWAT 活動中／派遣予定", "DWAT active / planned"],
  coverage: ["支援のつながり（平常時の備え）", "Web of support (preparedness)"],
  "coverage.open": ["業務画面で地域別に見る", "Open by area on the workbench"],
  "cov.registered": ["登録者", "Registered"],
  "cov.consented": ["同意あり", "Consented"],
  "cov.plan_not_started": ["計画 未着手", "Plan not started"],
  "cov.plan_drafting": ["計画 作成中", "Plan drafting"],
  "cov.plan_done": ["計画 作成済", "Plan done"],
  "cov.plan_needs_review": ["計画 要見直し", "Plan needs review"],
  "cov.supporters_0": ["支援者 0人", "No supporter"],
  "cov.supporters_1": ["支援者 1人", "One supporter"],
  "cov.supporters_2plus": ["支援者 2人以上", "Two or more supporters"],
  "cov.elderly_supporter": ["高齢の支援者", "Elderly supporter"],
  "cov.registered_supporter": ["名簿登録者の支援者", "Supporter on the register"],
  "cov.review_overdue": ["見直し期限切れ", "Review overdue"],
  "cov.destination_unusable": ["使えない避難先", "Unusable destination"],
  "cov.destination_seismic": ["　うち旧耐震・未診断", "  old seismic code"],
  "cov.destination_hazard": ["　うち危険区域内", "  in a hazard area"],
  "cov.destination_not_accepting": ["　うち受入不可", "  does not accept"],
  "cov.destination_unknown": ["　うち不明な施設", "  unknown shelter"],
  layers: ["表示する地図", "Layers"],
  "layer.districts": ["町丁目（安否確認の割合）", "Districts (share confirmed)"],
  "layer.shelters": ["避難所", "Shelters"],
  "layer.people": ["要配慮者（安否）の点を常に表示", "Always show people (safety status) as points"],
  decisions: ["判断が必要なこと", "Needs a decision"],
  "decision.overflow": ["定員超過の避難所", "Shelters over capacity"],
  "decision.unusable": ["使用できない避難所", "Shelters that cannot be used"],
  "decision.requests": ["未対応のDWAT要請", "Open DWAT requests"],
  "decision.unconfirmed": ["未確認が多い町丁目", "Most people unconfirmed"],
  "decision.none": ["なし", "none"],
  "dwat.active": ["活動中", "on site"],
  "dwat.planned": ["派遣予定", "planned"],
  "dwat.requested": ["要請中", "requested"],
  "step.requested": ["要請受付", "requested"],
  "step.accepted": ["受理", "accepted"],
  "popup.dwatRequests": ["派遣要請", "DWAT requests"],
  "popup.dwatBoard": ["派遣調整へ", "to the dispatch board"],
  "layer.dwat": ["DWAT派遣", "DWAT deployments"],
  "layer.hazards": ["災害リスク区域", "Hazard areas"],
  "layer.basemap": ["背景地図", "Basemap"],
  "filter.status": ["安否状況で絞り込み", "Filter people by safety status"],
  "filter.open": ["避難所の開設状況で絞り込み", "Filter shelters by open state"],
  "filter.kind": ["避難所の種類", "Kind of shelter"],
  "filter.kind.all": ["すべて", "All"],
  "filter.kind.welfare": ["福祉避難所のみ", "Welfare shelters only"],
  noReport: ["報告なし", "no report"],
  legend: ["凡例", "Legend"],
  "legend.people": ["要配慮者（数字はまとまりの人数）", "People (numbers: people in a cluster)"],
  "legend.shelters": ["避難所（■福祉避難所 ●指定避難所、中の字は開設状況、下の棒は避難者数／定員）",
    "Shelters (■ welfare shelter, ● designated shelter; letter: open state; bar: evacuees / capacity)"],
  "legend.overflow": ["定員超過（赤い棒と超過人数）", "over capacity (red bar and people over)"],
  "legend.unknownOccupancy": ["報告なし（避難者数は不明、縞模様）", "no report (evacuees unknown, hatched)"],
  "legend.unusable": ["使用できない（✕）", "cannot be used (✕)"],
  "legend.peopleZoom": ["要配慮者の点は拡大したとき（または「常に表示」）に出ます", "People appear as points when zoomed in (or with “always show”)"],
  "legend.seismic": ["耐震の印（右上の丸）", "Seismic mark (dot at top right)"],
  "legend.districts": ["町丁目の色：安否確認済の割合", "District colour: share of people confirmed"],
  "legend.noPeople": ["名簿登録なし", "nobody registered"],
  "legend.dwat": ["DWAT派遣先（数字はチーム数）", "DWAT deployment (number of teams)"],
  "legend.dwatActive": ["活動中（塗り）", "on site (filled)"],
  "legend.dwatPlanned": ["派遣予定（白・点線）", "planned (white, dashed)"],
  "legend.dwatRequested": ["要請中（黄・点線、数字は要請数）", "requested (amber, dotted; number of requests)"],
  "legend.hazards": ["災害リスク区域", "Hazard areas"],
  "legend.water": ["浸水・津波・高潮", "flood, tsunami, storm surge"],
  "legend.landslide": ["土砂災害", "landslide"],
  "popup.hazards": ["災害リスク区域", "Hazard areas"],
  "hazard.landslide_warning": ["土砂災害警戒区域", "landslide warning zone"],
  "hazard.landslide_special": ["土砂災害特別警戒区域", "landslide special warning zone"],
  "hazard.flood": ["浸水想定区域", "flood inundation area"],
  "hazard.inland_flood": ["内水浸水想定区域", "inland flood area"],
  "hazard.tsunami": ["津波浸水想定", "tsunami inundation area"],
  "hazard.storm_surge": ["高潮浸水想定区域", "storm surge inundation area"],
  "seismic.safe": ["新耐震・改修済・Is値0.6以上", "new standard, retrofitted or Is ≥ 0.6"],
  "seismic.some": ["旧耐震（Is値0.3〜0.6・未診断）", "old standard (Is 0.3–0.6 or not diagnosed)"],
  "seismic.high": ["旧耐震・Is値0.3未満（倒壊の危険）", "old standard, Is < 0.3 (collapse risk)"],
  "seismic.unknown": ["不明", "unknown"],
  districts: ["町丁目別の安否確認", "Safety checks by district"],
  shelters: ["避難所別の状況", "Shelters"],
  "col.district": ["町丁目", "District"],
  "col.people": ["人数", "People"],
  "col.confirmed": ["確認済", "Confirmed"],
  "col.needs": ["要支援・負傷", "Help / injured"],
  "col.unchecked": ["未確認", "Not checked"],
  "col.shelter": ["避難所", "Shelter"],
  "col.state": ["開設状況", "State"],
  "col.occupancy": ["避難者／定員", "Evacuees / capacity"],
  "col.seismic": ["耐震", "Seismic"],
  showOnMap: ["地図で表示", "show on map"],
  capacityUnknown: ["定員不明", "capacity unknown"],
  occupancyUnknown: ["不明", "unknown"],
  overflow: ["人超過", " over capacity"],
  people: ["人", "people"],
  "popup.kind": ["種類", "Kind"],
  "popup.state": ["開設状況", "State"],
  "popup.occupancy": ["避難者／定員", "Evacuees / capacity"],
  "popup.damage": ["建物被害", "Damage"],
  "popup.lifelines": ["ライフライン", "Lifelines"],
  "popup.needs": ["必要なもの", "Needs"],
  "popup.seismic": ["耐震", "Seismic class"],
  "popup.matching": ["マッチング対象外の理由", "Left out of matching"],
  "popup.reported": ["報告時刻", "Reported"],
  "popup.dwat": ["DWAT", "DWAT"],
  "popup.registerNo": ["登録者番号", "Register no."],
  "popup.name": ["氏名", "Name"],
  "popup.address": ["住所", "Address"],
  "popup.phone": ["電話", "Phone"],
  "popup.reasons": ["支援が必要な事由", "Reasons"],
  "popup.safety": ["最新の安否", "Latest safety check"],
  "popup.notChecked": ["まだ安否確認がありません", "No safety check yet"],
  "popup.loading": ["読み込み中…", "Loading…"],
  "popup.unavailable": ["詳細を表示できません", "Details are not available"],
  "popup.people": ["人数", "People"],
  "popup.confirmedShare": ["安否確認済の割合", "Share confirmed"],
  "popup.zoomIn": ["拡大して表示", "Zoom in"],
  "popup.cluster": ["この付近の要配慮者", "People around here"],
  "popup.team": ["チーム", "Team"],
  "popup.period": ["期間", "Period"],
  "lifeline.power": ["電気", "power"],
  "lifeline.water": ["水道", "water"],
  "lifeline.gas": ["ガス", "gas"],
  "lifeline.comms": ["通信", "comms"],
};

let lang = "ja";

export function currentLang() {
  return lang;
}

export function t(key) {
  const entry = TEXT[key];
  if (!entry) return key;
  return lang === "en" ? entry[1] : entry[0];
}

// A data value's label: {code, ja, en} from the server's vocabularies.
export function label(entry) {
  if (!entry) return "";
  return lang === "en" ? entry.en : entry.ja;
}

export function translate(root = document) {
  root.querySelectorAll("[data-i18n]").forEach((el) => {
    el.textContent = t(el.dataset.i18n);
  });
  root.querySelectorAll("[data-i18n-aria-label]").forEach((el) => {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  });
}

function storedLang() {
  try {
    return localStorage.getItem("tsunagu.hq.lang");
  } catch {
    return null; // storage may be off; Japanese then
  }
}

// Wires the toggle; `onChange` re-renders what code wrote (tables, legend, popups).
export function setupLanguage(button, onChange) {
  lang = storedLang() === "en" ? "en" : "ja";
  const apply = () => {
    document.documentElement.lang = lang;
    button.textContent = lang === "en" ? "日本語" : "English";
    button.lang = lang === "en" ? "ja" : "en";
    translate();
    document.title = `${t("title")} — ${t("app")}`;
  };
  button.addEventListener("click", () => {
    lang = lang === "en" ? "ja" : "en";
    try {
      localStorage.setItem("tsunagu.hq.lang", lang);
    } catch {
      /* not remembered, still switched */
    }
    apply();
    onChange();
  });
  apply();
}
