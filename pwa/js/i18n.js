// Japanese first, English on request. Messages are here; the labels of controlled
// vocabularies (outcomes, reasons, open states …) come from the server's /app/vocab.json,
// the same labels the register and the printouts use.
import { emit } from './events.js';

const MESSAGES = {
  ja: {
    'app.name': 'つなぐ 現場アプリ', 'app.skip': '本文へ移動', 'lang.switch': 'English',
    'nav.label': 'メニュー', 'nav.people': '担当者', 'nav.shelter': '避難所報告', 'nav.dwat': 'DWAT日報', 'nav.sync': '同期',
    'common.cancel': 'キャンセル', 'common.save': '保存', 'common.yes': 'あり', 'common.no': 'なし', 'common.none': 'なし', 'common.empty': '（空欄）',
    'error.title': 'エラーが発生しました',
    'common.required': '（必須）',
    'plan.supporters_edit': '避難支援等実施者（3人まで）', 'plan.supporters_hint': '名前を消すとその方は計画から外れます。通信できないときも保存でき、つながったときに送ります。',
    'plan.supporter_n': '{n}人目', 'plan.supporter_name': '氏名・団体名', 'plan.supporter_relation': '続柄・関係', 'plan.supporter_phone': '電話番号',
    'field.supporters': '避難支援等実施者',
    'safety.undo': '取り消す', 'safety.add_note': 'メモを追加',
    'safety.undone': '取り消しました：{name} さん「{outcome}」は送信されません。',
    'safety.undo_too_late': '{name} さん「{outcome}」はすでに送信されたため取り消せません。正しい状況をもう一度記録してください（新しい記録が優先されます）。',
    'safety.note_title': '{name} さんの記録にメモを追加', 'safety.note_for': '記録した「{outcome}」にメモを付けます。',
    'safety.note_saved': 'メモを保存しました：{name} さん',
    'sync.state_signed_out': 'サインインしていません', 'sync.state_never': 'まだ同期していません', 'sync.state_no_deployment': '派遣中の活動なし',
    'sync.offline_ready': 'オフラインでの利用', 'sync.offline_ready_yes': '準備完了（通信が切れても開けます）',
    'sync.offline_ready_no': 'まだ準備できていません（最初の同期が終わると使えます）',
    'dwat.no_deployment_title': '現在、派遣中の活動がありません',
    'dwat.no_deployment_body': 'DWATのメンバーは、チームの派遣が「活動中」の間だけ、派遣先の避難所と要配慮者の情報を見て記録できます。いまはあなたのチームに活動中の派遣がないため、この端末には何も届きません。派遣が始まると自動で同期します。',
    'dwat.no_deployment_ask': '派遣の予定や状況は、DWATの調整担当（災害対策本部の福祉班）に確認してください。',
    'people.first_sync_offline': 'まだ担当者の情報を受け取っていません。通信できる場所で同期してください。',
    'people.first_sync_error': '同期できませんでした。「同期」画面で理由を確認してください。',
    'people.first_sync_no_deployment': '派遣中の活動がないため、表示できる方はいません。',
    'people.first_sync_waiting': 'まだ同期していません。',
    'shelter.previous': '前回の報告：{value}', 'shelter.previous_n': '前回 {n}人',
    'shelter.capacity_n': '収容可能人数 {n}人', 'shelter.capacity_unknown': '収容可能人数は未登録です',
    'shelter.choose_damage': '建物の被害を選んでください。', 'shelter.choose_open_state': '開設状況を選んでください。',
    'shelter.occupancy_missing': '避難者数を入れてください（いなければ 0）。',
    'shelter.over_title': '避難者数 {n}人 が収容可能人数 {capacity}人 を超えています',
    'shelter.over_body': 'このまま送ると、本部には定員を超えていると伝わります。数を確かめて、正しければ送ってください。',
    'shelter.over_send': '超過のまま送る', 'shelter.over_back': '戻って直す',
    'sw.ready': 'オフラインで使う準備ができました。通信が切れてもこのアプリは開けます。',
    'sw.update': '新しいバージョンがあります。', 'sw.update_now': '更新する',
    'people.title': '担当者一覧', 'people.search': 'ふりがな・氏名・番号・住所で検索', 'people.filter': '絞り込み',
    'people.filter_all': 'すべて', 'people.filter_unchecked': '未確認', 'people.filter_help': '要支援・負傷',
    'people.summary': '{shown}人を表示（全{all}人）', 'people.first_sync': '初めての同期中です…（{n}件受信）',
    'people.unchecked': '未確認', 'people.record': '安否確認', 'people.age': '{n}歳', 'people.no_district': '地区なし',
    'people.none': '担当の方はいません。同期が終わるまでお待ちください。', 'people.none_match': '条件に合う方はいません。',
    'people.scan': 'QRコードで開く',
    'people.sort': '並べ方', 'people.sort_walk': '歩く順', 'people.sort_kana': 'あいうえお順', 'people.sort_near': '近い順',
    'people.use_position': '現在地を使う', 'people.position_denied': '現在地を使えません（端末の設定で位置情報を許可してください）。',
    'people.start': '出発点', 'people.start_centre': '地区の中心', 'people.start_here': '現在地', 'people.start_point': '地図で選んだ地点',
    'people.start_person': '{name} さんの家', 'people.no_address': '住所なし',
    'map.title': '地区の地図', 'map.svg_title': '担当地区の地図：歩く順の番号、避難所（避）、出発点',
    'map.caption': '番号は歩く順です。地図をタップするとそこを出発点にします。通信がなくても表示できます。',
    'map.here': '現在地', 'map.start': '出発点', 'map.none': 'この地区には地図の情報がありません。',
    'scan.title': 'QRコードで開く',
    'scan.intro': '紙の個別避難計画に印刷されたQRコードをカメラに映すと、その方のページが開きます。コードには番号しか入っていません。探すのはこの端末の中だけです。',
    'scan.camera': 'カメラで読み取る', 'scan.video': 'カメラの映像（QRコードを映す枠）', 'scan.starting': 'カメラを起動しています…',
    'scan.aim': 'QRコードを枠の中に映してください。読み取ると自動で開きます。',
    'scan.refused': 'カメラの使用が許可されていません。ブラウザの設定でこのアプリにカメラを許可するか、「文字で入力する」の欄にコードを入れてください。',
    'scan.no_camera': 'この端末ではカメラを使えません。「文字で入力する」の欄にコードを入れてください。',
    'scan.camera_busy': 'カメラを起動できませんでした（ほかのアプリが使用中など）。「文字で入力する」の欄にコードを入れてください。',
    'scan.camera_failed': 'カメラを起動できませんでした。「文字で入力する」の欄にコードを入れてください。',
    'scan.decoder_failed': '読み取りの準備ができませんでした。「文字で入力する」の欄にコードを入れてください。',
    'scan.retry': 'もう一度カメラを試す', 'scan.type': '文字で入力する', 'scan.code': 'QRコードの文字・計画のID・登録者番号',
    'scan.code_hint': 'カメラが使えないときや紙が傷んでいるときに。計画の下にある「ID」か、登録者番号を入れてください。',
    'scan.open': '開く', 'scan.empty': 'コードか番号を入れてください。',
    'scan.not_ours': 'つなぐのQRコードではありません。計画のQRコードを映してください。',
    'scan.not_ours_typed': 'つなぐのQRコードではありません。登録者番号としても、この端末には該当する方がいません（担当外か、まだ同期されていません）。',
    'scan.shared_number': 'この登録者番号の方が複数の市区町村にいます。QRコードを読み取るか、計画のIDを入力してください。',
    'scan.not_here_plan': 'この端末にはこの計画がありません（担当外か、まだ同期されていません）。',
    'scan.not_here_person': 'この端末にはこの方の情報がありません（担当外か、まだ同期されていません）。',
    'scan.other_kind': 'つなぐのコードですが、この画面では開けない種類です。',
    'safety.title': '{name} さんの安否', 'safety.outcome': '安否の状況', 'safety.note': 'メモ（任意。記録した後でも「メモを追加」で書けます）',
    'safety.saved': '記録しました：{name} さん「{outcome}」', 'safety.where_title': '{name} さんの避難先（任意）',
    'safety.where_saved': '「避難済」を記録しました。分かれば避難先を選んでください。', 'safety.where_planned': '計画の避難先',
    'safety.where_other': 'ほかの避難所', 'safety.where_choose': '選んでください', 'safety.where_skip': '分からない・あとで',
    'person.back': '← 担当者一覧へ', 'person.back_to': '← {name} さんへ', 'person.gone_title': '表示できません',
    'person.gone': 'この方の情報はこの端末にありません（担当の変更など）。',
    'person.checks': '安否の記録', 'person.basic': '基本情報', 'person.register_no': '登録者番号', 'person.birth_date': '生年月日',
    'person.sex': '性別', 'person.address': '住所', 'person.phone': '電話番号', 'person.contact_other': 'その他の連絡先',
    'person.household': '世帯', 'person.language': '希望する言語', 'person.association': '自治会', 'person.minsei': '担当民生委員',
    'person.consent': '名簿情報提供への同意', 'person.needs': '支援が必要な事由・配慮', 'person.reasons': '事由',
    'person.reason_note': '事由の詳細', 'person.care_needs': '必要な配慮', 'person.notes': '申し伝え事項', 'person.contacts': '緊急連絡先',
    'plan.title': '個別避難計画', 'plan.none': '個別避難計画はまだありません。', 'plan.status': '作成状況', 'plan.supporters': '避難支援等実施者',
    'plan.no_supporters': '未定', 'plan.destination': '避難先', 'plan.alternate': '第二避難先', 'plan.route': '避難経路',
    'plan.timing': '避難のタイミング', 'plan.care': '配慮事項', 'plan.consent': '本人の同意', 'plan.author': '作成者',
    'plan.review_due': '次回見直し日', 'plan.edit': '計画を編集', 'plan.edit_title': '{name} さんの個別避難計画を編集',
    'plan.pending': 'この端末での変更が未送信です。', 'plan.rejected': 'この端末での変更がサーバーで受け付けられませんでした（同期画面を見てください）。',
    'plan.saved': '計画の変更を保存しました。通信できるときに送信します。', 'plan.same_shelter': '第二避難先は避難先と別の避難所にしてください。',
    'care.walking_ability': '歩行の状況', 'care.how_to_help': '支援の方法', 'care.items_to_carry': '持ち出す物',
    'care.usual_location': '普段いる場所', 'care.building_structure': '建物の構造', 'care.doctor': 'かかりつけ医',
    'care.conditions': '病名・状態', 'care.allergies': 'アレルギー', 'care.blood_type': '血液型',
    'shelter.title': '避難所の状況報告', 'shelter.none': '報告できる避難所がありません。', 'shelter.which': '避難所',
    'shelter.no_report': 'まだ報告はありません。', 'shelter.latest': '最新の報告：', 'shelter.occupancy_n': '{n}人',
    'shelter.open_state': '開設状況', 'shelter.occupancy': '避難者数（人）', 'shelter.by_group': '避難者の内訳（人）',
    'shelter.damage': '建物の被害', 'shelter.lifelines': 'ライフライン', 'shelter.needs': '必要なもの',
    'shelter.needs_other': 'その他の必要なもの（「、」で区切る）', 'shelter.note': 'メモ', 'shelter.save': '報告を保存',
    'shelter.saved': '状況報告を保存しました。', 'shelter.groups_too_many': '内訳の合計が避難者数を超えています。',
    'group.elderly': '高齢者', 'group.disabled': '障害者', 'group.pregnant_infant': '妊産婦・乳幼児', 'group.medical_care': '医療的ケア', 'group.other': 'その他',
    'lifeline.power': '電気', 'lifeline.water': '水道', 'lifeline.gas': 'ガス', 'lifeline.comms': '通信',
    'needs.staff': '職員・応援', 'needs.food': '食料', 'needs.water': '飲料水', 'needs.blankets': '毛布', 'needs.toilets': '簡易トイレ',
    'needs.medicine': '医薬品', 'needs.care_goods': '介護用品', 'needs.diapers': '紙おむつ', 'needs.formula': '粉ミルク',
    'needs.generator': '発電機', 'needs.fuel': '燃料',
    'dwat.title': 'DWAT 活動日報', 'dwat.none': '活動中の派遣がありません。', 'dwat.deployment': '派遣', 'dwat.team': 'チーム', 'dwat.shelter': '避難所',
    'dwat.report_date': '活動日', 'dwat.counts': '件数', 'dwat.people_assessed': 'アセスメント人数', 'dwat.consultations': '相談対応件数',
    'dwat.referrals': '福祉避難所等へのつなぎ件数', 'dwat.activities': '活動内容', 'dwat.issues': '課題', 'dwat.requests_to_hq': '本部への要望',
    'nav.triage': 'トリアージ', 'nav.dwat_request': 'DWAT要請', 'step.minus': '1減らす', 'step.plus': '1増やす',
    'dwat.activity_counts': '活動件数', 'dwat.triage_counts': 'トリアージ（判定別の人数）', 'dwat.handover': '申し送り（次のチームへ）', 'dwat.total': '計{n}件',
    'triage.title': '福祉的トリアージ', 'triage.person': '対象者', 'triage.search': '名前・ふりがなで探す', 'triage.new': '名簿にない方を登録',
    'triage.new_title': '名簿にない方（現地登録・市役所が確認します）', 'triage.name': '氏名', 'triage.kana': 'ふりがな', 'triage.sex': '性別',
    'triage.birth': '生年月日（推定でも可）', 'triage.outcome': '判定', 'triage.needs': '支援ニーズ', 'triage.groups': '受入対象区分（移送のとき）',
    'triage.urgent': '緊急（優先して移送）', 'triage.notes': 'メモ', 'triage.save': 'トリアージを保存', 'triage.saved': 'トリアージを保存しました。',
    'triage.pick_person': '対象者を選ぶか、名簿にない方を登録してください。', 'triage.pick_outcome': '判定を選んでください。',
    'triage.earlier': '記録したトリアージ', 'triage.none_here': 'この避難所の方は端末にいません。', 'triage.name_required': '氏名と生年月日を入れてください。',
    'triage.chosen': '選択中: {name}', 'triage.new_person': '新規: {name}',
    'request.title': 'DWAT 派遣要請', 'request.shelter': '避難所', 'request.needs': '支援が必要な人数（種類別）', 'request.priority': '緊急度',
    'request.wanted_from': '希望開始日', 'request.note': '補足', 'request.save': '要請を送る', 'request.saved': '要請を保存しました。',
    'request.no_needs': '支援が必要な人数を1人以上入れてください。', 'request.earlier': 'これまでの要請', 'request.no_shelter': '担当の避難所がありません。',
    'dwat.save': '日報を保存', 'dwat.saved': '日報を保存しました。', 'dwat.earlier': 'これまでの日報', 'dwat.date_required': '活動日を入れてください。',
    'sync.state_idle': '同期済み', 'sync.state_syncing': '同期中…', 'sync.state_offline': 'オフライン', 'sync.state_error': '同期エラー', 'sync.state_locked': '要サインイン',
    'sync.last': '最終同期 {when}', 'sync.never': 'まだ', 'sync.waiting_n': '未送信 {n}', 'sync.attention_n': '要対応 {n}',
    'sync.flag_pending': '（未送信）', 'sync.flag_rejected': '（送信エラー）', 'sync.title': '同期の状況', 'sync.last_label': '最終同期',
    'sync.waiting': '送信待ち', 'sync.rejected': '受け付けられなかった記録', 'sync.conflicts': '競合', 'sync.last_error': '直近のエラー',
    'sync.now': '今すぐ同期', 'sync.rejected_title': '受け付けられなかった記録',
    'sync.rejected_help': 'サーバーが受け付けなかった記録です。理由を見て「修正する」か、不要なら「破棄する」を選んでください。選ぶまでこの端末に残ります。',
    'sync.rejected_none': 'ありません。', 'sync.fix': '修正する', 'sync.discard': '破棄する', 'sync.discard_title': 'この記録を破棄しますか？',
    'sync.discard_body': '破棄すると元に戻せません。サーバーにも送られません。',
    'sync.fix_intro': 'この記録はサーバーで受け付けられませんでした。理由を確認して直してから保存してください。',
    'sync.conflicts_title': '競合（ほかの人の変更と重なった項目）',
    'sync.conflicts_help': '同じ項目をほかの人も変更していたため、サーバーの値が残り、あなたの値は競合記録として保存されました。どちらを採用するかは福祉担当職員が決めます。あなたの入力は失われていません。',
    'sync.conflicts_none': 'ありません。', 'sync.conflict_line': '{name} さんの計画「{field}」', 'sync.conflict_mine': 'あなたの値',
    'sync.conflict_theirs': 'サーバーの値（採用中）', 'sync.conflict_ok': '確認した',
    'sync.waiting_title': '送信待ちの記録', 'sync.waiting_none': 'ありません。すべて送信済みです。',
    'sync.attempts': '{n}回送信を試みました（{error}）。通信が戻ると自動で再送します。',
    'sync.what_safety': '安否確認：{name} さん「{outcome}」', 'sync.what_shelter': '避難所の状況報告：{name}',
    'sync.what_dwat': 'DWAT活動日報：{date}', 'sync.what_plan': '個別避難計画の変更：{fields}',
    'sync.device': 'この端末', 'sync.user': '利用者', 'sync.role': '役割', 'sync.mode': 'モード',
    'sync.offline_until': 'オフラインで使える期限', 'sync.storage': 'データの保存', 'sync.storage_persisted': '端末に永続保存',
    'sync.storage_not': 'ブラウザが消去することがあります（ホーム画面に追加すると防げます）', 'sync.storage_unknown': '不明',
    'sync.clock_skew': 'この端末の時計がサーバーより約{n}分{dir}います。記録の時刻がずれ、受け付けられないことがあります。端末の日時設定を直してください。',
    'sync.clock_fast': '進んで', 'sync.clock_slow': '遅れて',
    'sync.app_version': 'アプリのバージョン', 'sync.sign_out': 'サインアウト（この端末のデータを消去）',
    'field.route_note': '避難経路', 'field.timing_note': '避難のタイミング', 'field.care': '配慮事項', 'field.status': '作成状況',
    'field.destination_shelter_id': '避難先', 'field.alternate_shelter_id': '第二避難先', 'field.observed_at': '記録時刻',
    'field.person_id': '対象者', 'field.shelter_id': '避難所', 'field.note': 'メモ', 'field.occupancy': '避難者数', 'field.deployment_id': '派遣',
    'signout.title': 'サインアウトしますか？', 'signout.body': 'この端末から担当者のデータを消去します。次に使うときはサインインと同期が必要です。',
    'signout.unsent_title': '未送信の記録が{n}件あります', 'signout.unsent_body': 'サインアウトすると、まだサーバーに届いていない{n}件の記録がこの端末から消え、失われます。通信できる場所で同期してからサインアウトしてください。',
    'signout.anyway': '消去してサインアウト', 'signout.done': 'サインアウトしました。この端末のデータは消去されました。',
    'signin.title': 'サインイン', 'signin.again_title': 'もう一度サインインしてください',
    'signin.intro': '通信できる場所で一度サインインすると、通信が途絶えても担当者の情報を見て安否を記録できます。',
    'signin.username': 'ユーザー名', 'signin.password': 'パスワード', 'signin.label': '端末の名前（任意）',
    'signin.label_hint': '例：第3地区タブレット。管理者が紛失時に無効にするときの目印です。', 'signin.submit': 'サインイン', 'signin.busy': 'サインイン中…',
    'signin.missing': 'ユーザー名とパスワードを入れてください。', 'signin.offline': 'サーバーにつながりません。通信できる場所でもう一度お試しください。',
    'signin.throttled': '失敗が続いたため、しばらく待ってからお試しください。',
    'signin.locked_token': 'サーバーがこの端末のサインインを受け付けませんでした（期限切れ・無効化など）。',
    'signin.locked_expired': 'オフラインで使える期限（{when}）を過ぎました。',
    'signin.locked_data': '記録したデータと未送信の記録はこの端末に残っています。サインインすると送信されます。',
    'signin.erase': 'この端末のデータを消去する',
    'signin.other_user_title': '前の利用者の未送信データがあります', 'signin.other_user_body': '{name} さんの未送信の記録{n}件が消去されます。できれば {name} さんがサインインして送信してください。',
    'signin.other_user_ok': '消去して別の利用者でサインイン',
  },
  en: {
    'app.name': 'Tsunagu field app', 'app.skip': 'Skip to content', 'lang.switch': '日本語',
    'nav.label': 'Menu', 'nav.people': 'People', 'nav.shelter': 'Shelter report', 'nav.dwat': 'DWAT report', 'nav.sync': 'Sync',
    'common.cancel': 'Cancel', 'common.save': 'Save', 'common.yes': 'yes', 'common.no': 'no', 'common.none': 'none', 'common.empty': '(empty)',
    'error.title': 'Something went wrong',
    'common.required': ' (required)',
    'plan.supporters_edit': 'Supporters (up to 3)', 'plan.supporters_hint': 'Clear a name to take that supporter off the plan. Saving works offline; it is sent when there is a network.',
    'plan.supporter_n': 'Supporter {n}', 'plan.supporter_name': 'Name or organisation', 'plan.supporter_relation': 'Relation', 'plan.supporter_phone': 'Phone',
    'field.supporters': 'Supporters',
    'safety.undo': 'Undo', 'safety.add_note': 'Add a note',
    'safety.undone': 'Undone: {name} — {outcome} will not be sent.',
    'safety.undo_too_late': '{name} — {outcome} has already been sent and cannot be undone. Record the right outcome again (the newer record counts).',
    'safety.note_title': 'Add a note to the record of {name}', 'safety.note_for': 'The note goes with the "{outcome}" just recorded.',
    'safety.note_saved': 'Note saved: {name}',
    'sync.state_signed_out': 'Not signed in', 'sync.state_never': 'Not synced yet', 'sync.state_no_deployment': 'No active deployment',
    'sync.offline_ready': 'Offline use', 'sync.offline_ready_yes': 'ready (the app opens without a network)',
    'sync.offline_ready_no': 'not ready yet (ready once the first sync has finished)',
    'dwat.no_deployment_title': 'There is no active deployment now',
    'dwat.no_deployment_body': 'DWAT members see and record the information of their deployment\'s shelter and people only while their team\'s deployment is active. Your team has no active deployment now, so nothing comes to this device. It syncs by itself when a deployment begins.',
    'dwat.no_deployment_ask': 'Ask the DWAT coordinator (the welfare section of the disaster HQ) about your deployment.',
    'people.first_sync_offline': 'Nothing received yet. Sync where there is a network.',
    'people.first_sync_error': 'The sync failed. See the Sync screen for the reason.',
    'people.first_sync_no_deployment': 'No active deployment, so there is nobody to show.',
    'people.first_sync_waiting': 'Not synced yet.',
    'shelter.previous': 'Last report: {value}', 'shelter.previous_n': 'last report {n}',
    'shelter.capacity_n': 'Capacity {n} people', 'shelter.capacity_unknown': 'Capacity not registered',
    'shelter.choose_damage': 'Choose the building damage.', 'shelter.choose_open_state': 'Choose the open state.',
    'shelter.occupancy_missing': 'Enter the number of evacuees (0 if none).',
    'shelter.over_title': '{n} evacuees is more than the capacity of {capacity}',
    'shelter.over_body': 'If you send it, HQ sees the shelter over capacity. Check the number and send it if it is right.',
    'shelter.over_send': 'Send over capacity', 'shelter.over_back': 'Go back and correct',
    'sw.ready': 'Ready to work offline: the app opens even without a network.',
    'sw.update': 'A new version is available.', 'sw.update_now': 'Update',
    'people.title': 'My people', 'people.search': 'Search by kana, name, number or address', 'people.filter': 'Filter',
    'people.filter_all': 'All', 'people.filter_unchecked': 'Not yet checked', 'people.filter_help': 'Needs help / injured',
    'people.summary': 'Showing {shown} of {all}', 'people.first_sync': 'First sync in progress… ({n} received)',
    'people.unchecked': 'Not checked', 'people.record': 'Safety check', 'people.age': '{n} y', 'people.no_district': 'No district',
    'people.none': 'No people assigned to you yet. Wait for the sync to finish.', 'people.none_match': 'Nobody matches.',
    'people.scan': 'Open from QR code',
    'people.sort': 'Order', 'people.sort_walk': 'Walking order', 'people.sort_kana': 'Kana order', 'people.sort_near': 'Nearest first',
    'people.use_position': 'Use my position', 'people.position_denied': 'The position is not available (allow location in the device settings).',
    'people.start': 'Start from', 'people.start_centre': 'District centre', 'people.start_here': 'My position', 'people.start_point': 'Point chosen on the map',
    'people.start_person': "{name}'s home", 'people.no_address': 'No address',
    'map.title': 'District map', 'map.svg_title': 'Map of my districts: walking-order numbers, shelters (避), start point',
    'map.caption': 'Numbers are the walking order. Tap the map to start from there. Works without a network.',
    'map.here': 'My position', 'map.start': 'Start', 'map.none': 'No map data for this district.',
    'scan.title': 'Open from QR code',
    'scan.intro': 'Show the QR code printed on a paper evacuation plan to the camera and that person\'s page opens. The code holds only a number, and it is looked up on this device only.',
    'scan.camera': 'Read with the camera', 'scan.video': 'Camera picture (hold the QR code in the frame)', 'scan.starting': 'Starting the camera…',
    'scan.aim': 'Hold the QR code inside the frame. It opens by itself once read.',
    'scan.refused': 'The camera is not allowed. Allow this app to use the camera in the browser\'s settings, or type the code under "Type it in".',
    'scan.no_camera': 'There is no camera this app can use on this device. Type the code under "Type it in".',
    'scan.camera_busy': 'The camera could not start (another app may be using it). Type the code under "Type it in".',
    'scan.camera_failed': 'The camera could not start. Type the code under "Type it in".',
    'scan.decoder_failed': 'The code reader could not start. Type the code under "Type it in".',
    'scan.retry': 'Try the camera again', 'scan.type': 'Type it in', 'scan.code': 'QR code text, plan ID or register number',
    'scan.code_hint': 'When there is no camera or the paper is damaged: type the "ID" printed at the foot of the plan, or the register number.',
    'scan.open': 'Open', 'scan.empty': 'Type a code or a number.',
    'scan.not_ours': 'This is not a Tsunagu QR code. Show the QR code of a plan.',
    'scan.not_ours_typed': 'This is not a Tsunagu QR code, and nobody on this device has that register number (not assigned to you, or not synced yet).',
    'scan.shared_number': 'People of several municipalities have this register number. Scan the QR code or type the plan\'s ID.',
    'scan.not_here_plan': 'This plan is not on this device (not assigned to you, or not synced yet).',
    'scan.not_here_person': 'This person is not on this device (not assigned to you, or not synced yet).',
    'scan.other_kind': 'This is a Tsunagu code, but not one this screen can open.',
    'safety.title': 'Safety of {name}', 'safety.outcome': 'Outcome', 'safety.note': 'Note (optional; can also be added after recording)',
    'safety.saved': 'Recorded: {name} — {outcome}', 'safety.where_title': 'Where is {name}? (optional)',
    'safety.where_saved': '"Evacuated" is recorded. Choose the shelter if you know it.', 'safety.where_planned': 'Shelters in the plan',
    'safety.where_other': 'Another shelter', 'safety.where_choose': 'Choose', 'safety.where_skip': 'Unknown / later',
    'person.back': '← My people', 'person.back_to': '← {name}', 'person.gone_title': 'Not available',
    'person.gone': 'This person is not on this device (for example, reassigned).',
    'person.checks': 'Safety checks', 'person.basic': 'Details', 'person.register_no': 'Register number', 'person.birth_date': 'Date of birth',
    'person.sex': 'Sex', 'person.address': 'Address', 'person.phone': 'Phone', 'person.contact_other': 'Other contact',
    'person.household': 'Household', 'person.language': 'Preferred language', 'person.association': 'Neighbourhood association',
    'person.minsei': 'Welfare commissioner', 'person.consent': 'Consent to sharing', 'person.needs': 'Reasons and care needs',
    'person.reasons': 'Reasons', 'person.reason_note': 'Reason details', 'person.care_needs': 'Care needs', 'person.notes': 'Notes',
    'person.contacts': 'Emergency contacts',
    'plan.title': 'Evacuation plan', 'plan.none': 'No evacuation plan yet.', 'plan.status': 'Status', 'plan.supporters': 'Supporters',
    'plan.no_supporters': 'not yet', 'plan.destination': 'Shelter', 'plan.alternate': 'Alternate shelter', 'plan.route': 'Route',
    'plan.timing': 'When to leave', 'plan.care': 'Care notes', 'plan.consent': 'Consent', 'plan.author': 'Written by',
    'plan.review_due': 'Next review', 'plan.edit': 'Edit plan', 'plan.edit_title': 'Edit the evacuation plan of {name}',
    'plan.pending': 'Changes made on this device are not sent yet.', 'plan.rejected': 'The server refused a change made on this device (see Sync).',
    'plan.saved': 'Plan saved; it is sent when there is a network.', 'plan.same_shelter': 'The alternate shelter must differ from the shelter.',
    'care.walking_ability': 'Walking', 'care.how_to_help': 'How to help', 'care.items_to_carry': 'What to carry',
    'care.usual_location': 'Usually found in', 'care.building_structure': 'Building', 'care.doctor': 'Doctor',
    'care.conditions': 'Conditions', 'care.allergies': 'Allergies', 'care.blood_type': 'Blood type',
    'shelter.title': 'Shelter status report', 'shelter.none': 'There is no shelter you can report for.', 'shelter.which': 'Shelter',
    'shelter.no_report': 'No report yet.', 'shelter.latest': 'Latest report:', 'shelter.occupancy_n': '{n} people',
    'shelter.open_state': 'Open state', 'shelter.occupancy': 'Evacuees (people)', 'shelter.by_group': 'Evacuees by group (people)',
    'shelter.damage': 'Building damage', 'shelter.lifelines': 'Lifelines', 'shelter.needs': 'Needs',
    'shelter.needs_other': 'Other needs (separate with commas)', 'shelter.note': 'Note', 'shelter.save': 'Save report',
    'shelter.saved': 'Shelter report saved.', 'shelter.groups_too_many': 'The groups add up to more than the number of evacuees.',
    'group.elderly': 'Elderly', 'group.disabled': 'Disabled', 'group.pregnant_infant': 'Pregnant / infants', 'group.medical_care': 'Medical care', 'group.other': 'Other',
    'lifeline.power': 'Power', 'lifeline.water': 'Water', 'lifeline.gas': 'Gas', 'lifeline.comms': 'Communications',
    'needs.staff': 'Staff', 'needs.food': 'Food', 'needs.water': 'Drinking water', 'needs.blankets': 'Blankets', 'needs.toilets': 'Portable toilets',
    'needs.medicine': 'Medicine', 'needs.care_goods': 'Care supplies', 'needs.diapers': 'Diapers', 'needs.formula': 'Infant formula',
    'needs.generator': 'Generator', 'needs.fuel': 'Fuel',
    'dwat.title': 'DWAT daily activity report', 'dwat.none': 'No active deployment.', 'dwat.deployment': 'Deployment', 'dwat.team': 'team', 'dwat.shelter': 'shelter',
    'dwat.report_date': 'Date', 'dwat.counts': 'Counts', 'dwat.people_assessed': 'People assessed', 'dwat.consultations': 'Consultations',
    'dwat.referrals': 'Referrals', 'dwat.activities': 'Activities', 'dwat.issues': 'Issues', 'dwat.requests_to_hq': 'Requests to HQ',
    'nav.triage': 'Triage', 'nav.dwat_request': 'DWAT request', 'step.minus': 'minus one', 'step.plus': 'plus one',
    'dwat.activity_counts': 'Activities', 'dwat.triage_counts': 'Triage (people by outcome)', 'dwat.handover': 'Handover to the next team', 'dwat.total': '{n} in all',
    'triage.title': 'Welfare triage', 'triage.person': 'Person', 'triage.search': 'Search by name or kana', 'triage.new': 'Add someone not on the register',
    'triage.new_title': 'Not on the register (added on site; the city office reviews)', 'triage.name': 'Name', 'triage.kana': 'Kana', 'triage.sex': 'Sex',
    'triage.birth': 'Date of birth (an estimate is fine)', 'triage.outcome': 'Outcome', 'triage.needs': 'Needs', 'triage.groups': 'Welfare-shelter groups (for a move)',
    'triage.urgent': 'Urgent (move first)', 'triage.notes': 'Notes', 'triage.save': 'Save triage', 'triage.saved': 'Triage saved.',
    'triage.pick_person': 'Choose a person or add someone not on the register.', 'triage.pick_outcome': 'Choose an outcome.',
    'triage.earlier': 'Triages recorded', 'triage.none_here': 'No one of this shelter is on this device.', 'triage.name_required': 'Enter the name and the date of birth.',
    'triage.chosen': 'Chosen: {name}', 'triage.new_person': 'New: {name}',
    'request.title': 'Request a DWAT team', 'request.shelter': 'Shelter', 'request.needs': 'People needing support (by kind)', 'request.priority': 'Urgency',
    'request.wanted_from': 'Wanted from', 'request.note': 'Note', 'request.save': 'Send request', 'request.saved': 'Request saved.',
    'request.no_needs': 'Enter at least one person needing support.', 'request.earlier': 'Earlier requests', 'request.no_shelter': 'You have no shelter assigned.',
    'dwat.save': 'Save report', 'dwat.saved': 'Daily report saved.', 'dwat.earlier': 'Earlier reports', 'dwat.date_required': 'Enter the date.',
    'sync.state_idle': 'Synced', 'sync.state_syncing': 'Syncing…', 'sync.state_offline': 'Offline', 'sync.state_error': 'Sync error', 'sync.state_locked': 'Sign in needed',
    'sync.last': 'Last sync {when}', 'sync.never': 'never', 'sync.waiting_n': '{n} waiting', 'sync.attention_n': '{n} need attention',
    'sync.flag_pending': '(not sent)', 'sync.flag_rejected': '(refused)', 'sync.title': 'Sync status', 'sync.last_label': 'Last sync',
    'sync.waiting': 'Waiting to send', 'sync.rejected': 'Refused by the server', 'sync.conflicts': 'Conflicts', 'sync.last_error': 'Last error',
    'sync.now': 'Sync now', 'sync.rejected_title': 'Refused by the server',
    'sync.rejected_help': 'The server did not accept these. Read the reason, then fix or discard each. They stay on this device until you do.',
    'sync.rejected_none': 'None.', 'sync.fix': 'Fix', 'sync.discard': 'Discard', 'sync.discard_title': 'Discard this record?',
    'sync.discard_body': 'This cannot be undone. It will not be sent to the server.',
    'sync.fix_intro': 'The server refused this record. Check the reason, correct it and save again.',
    'sync.conflicts_title': 'Conflicts (someone else changed the same field)',
    'sync.conflicts_help': 'Someone else changed the same field, so the server kept its value and saved yours as a conflict record. Welfare staff decide which to keep. Nothing you entered is lost.',
    'sync.conflicts_none': 'None.', 'sync.conflict_line': 'Plan of {name}: "{field}"', 'sync.conflict_mine': 'Your value',
    'sync.conflict_theirs': 'Server value (kept for now)', 'sync.conflict_ok': 'Understood',
    'sync.waiting_title': 'Waiting to send', 'sync.waiting_none': 'Nothing: everything is sent.',
    'sync.attempts': 'Tried {n} times ({error}); it is sent again automatically when the network returns.',
    'sync.what_safety': 'Safety check: {name} — {outcome}', 'sync.what_shelter': 'Shelter report: {name}',
    'sync.what_dwat': 'DWAT daily report: {date}', 'sync.what_plan': 'Plan change: {fields}',
    'sync.device': 'This device', 'sync.user': 'User', 'sync.role': 'Role', 'sync.mode': 'Mode',
    'sync.offline_until': 'Works offline until', 'sync.storage': 'Storage', 'sync.storage_persisted': 'persistent',
    'sync.storage_not': 'may be cleared by the browser (adding the app to the home screen prevents that)', 'sync.storage_unknown': 'unknown',
    'sync.clock_skew': 'This device\'s clock is about {n} minutes {dir} the server\'s. Times of records will be wrong, and some may be refused: correct the date and time settings.',
    'sync.clock_fast': 'ahead of', 'sync.clock_slow': 'behind',
    'sync.app_version': 'App version', 'sync.sign_out': 'Sign out (erase this device\'s data)',
    'field.route_note': 'Route', 'field.timing_note': 'When to leave', 'field.care': 'Care notes', 'field.status': 'Status',
    'field.destination_shelter_id': 'Shelter', 'field.alternate_shelter_id': 'Alternate shelter', 'field.observed_at': 'Time observed',
    'field.person_id': 'Person', 'field.shelter_id': 'Shelter', 'field.note': 'Note', 'field.occupancy': 'Evacuees', 'field.deployment_id': 'Deployment',
    'signout.title': 'Sign out?', 'signout.body': 'The data of your people is erased from this device. Next time you need to sign in and sync.',
    'signout.unsent_title': '{n} records are not sent yet', 'signout.unsent_body': 'Signing out erases {n} records that have not reached the server: they would be lost. Sync where there is a network first.',
    'signout.anyway': 'Erase and sign out', 'signout.done': 'Signed out. This device\'s data is erased.',
    'signin.title': 'Sign in', 'signin.again_title': 'Please sign in again',
    'signin.intro': 'Sign in once where there is a network; then you can see your people and record safety checks even when the network is down.',
    'signin.username': 'Username', 'signin.password': 'Password', 'signin.label': 'Device name (optional)',
    'signin.label_hint': 'For example "District 3 tablet": helps an administrator revoke a lost device.', 'signin.submit': 'Sign in', 'signin.busy': 'Signing in…',
    'signin.missing': 'Enter your username and password.', 'signin.offline': 'Cannot reach the server. Try again where there is a network.',
    'signin.throttled': 'Too many failed attempts; wait a while and try again.',
    'signin.locked_token': 'The server no longer accepts this device\'s sign-in (expired or revoked).',
    'signin.locked_expired': 'The offline period ended at {when}.',
    'signin.locked_data': 'Your records and unsent changes are still on this device; they are sent after you sign in.',
    'signin.erase': 'Erase this device\'s data',
    'signin.other_user_title': 'The previous user has unsent records', 'signin.other_user_body': '{n} unsent records of {name} will be erased. If possible, let {name} sign in and send them first.',
    'signin.other_user_ok': 'Erase and sign in as someone else',
  },
};

let current = 'ja';
let vocabularies = {};

export function lang() { return current; }

// t('people.summary', { shown: 3, all: 10 }); a missing key falls back to Japanese, then to `fallback`.
export function t(key, vars = {}, forceLang = null, fallback = undefined) {
  const table = MESSAGES[forceLang || current];
  let text = table[key] ?? MESSAGES.ja[key] ?? fallback ?? key;
  for (const [name, value] of Object.entries(vars || {})) text = text.replaceAll(`{${name}}`, String(value));
  return text;
}

export function vocabulary(name) { return vocabularies[name] || []; }

export function label(name, value) {
  const entry = vocabulary(name).find((v) => v.value === value);
  return entry ? entry[current] || entry.ja : value || '';
}

export function labels(name, values) { return (values || []).map((v) => label(name, v)).join('、'); }

export function setLang(next) {
  current = next === 'en' ? 'en' : 'ja';
  try { localStorage.setItem('tsunagu.lang', current); } catch { /* private mode */ }
  applyToPage();
  emit('lang', current);
}

function applyToPage() {
  document.documentElement.lang = current;
  const button = document.getElementById('lang');
  if (button) {
    button.textContent = t('lang.switch');
    button.setAttribute('lang', current === 'ja' ? 'en' : 'ja');
  }
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  const nav = document.getElementById('nav');
  if (nav) nav.setAttribute('aria-label', t('nav.label'));
}

export async function init() {
  try { current = localStorage.getItem('tsunagu.lang') === 'en' ? 'en' : 'ja'; } catch { current = 'ja'; }
  try {
    const response = await fetch('/app/vocab.json');  // precached by the service worker
    vocabularies = await response.json();
  } catch {
    vocabularies = {};
  }
  applyToPage();
}

const timeFormat = () => new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = () => new Intl.DateTimeFormat(current === 'ja' ? 'ja-JP' : 'en-GB', { year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' });

export function fmtTime(iso) { return iso ? timeFormat().format(new Date(iso)) : ''; }
export function fmtDateTime(iso) { return iso ? dateTimeFormat().format(new Date(iso)) : ''; }

// Dates (YYYY-MM-DD) in Japanese with the era: 2026年11月27日 (令和8年).
export function fmtDate(value) {
  if (!value) return '';
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  if (current === 'en') return new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' }).format(date);
  const era = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', year: 'numeric', timeZone: 'UTC' }).format(date);
  return `${y}年${m}月${d}日（${era}）`;
}

export function age(birthDate, now = new Date()) {
  const [y, m, d] = birthDate.split('-').map(Number);
  let years = now.getFullYear() - y;
  if (now.getMonth() + 1 < m || (now.getMonth() + 1 === m && now.getDate() < d)) years -= 1;
  return years;
}
