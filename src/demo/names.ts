/** Name material for demo data: Japanese and English companies and people. */
export const JA_COMPANY_STEMS = ['さくら', '青葉', '東海', '北斗', '朝日', '富士', '大和', '若葉', '光', '瑞穂', '白鷺', '葵', '明星', '南風', '翠', '紅葉', '桜井', '浜松', '湊', '銀河'];
export const JA_COMPANY_KINDS = ['商事', '製作所', '物流', 'システムズ', 'ホールディングス', '不動産', '食品', 'メディカル', '建設', 'ソリューションズ', '電機', '観光'];
export const JA_COMPANY_ROMAJI: Record<string, string> = {
  さくら: 'sakura', 青葉: 'aoba', 東海: 'tokai', 北斗: 'hokuto', 朝日: 'asahi', 富士: 'fuji', 大和: 'yamato', 若葉: 'wakaba', 光: 'hikari',
  瑞穂: 'mizuho', 白鷺: 'shirasagi', 葵: 'aoi', 明星: 'myojo', 南風: 'minami', 翠: 'midori', 紅葉: 'momiji', 桜井: 'sakurai', 浜松: 'hamamatsu',
  湊: 'minato', 銀河: 'ginga',
};
export const EN_COMPANY_STEMS = ['Acme', 'Northwind', 'Blue Harbor', 'Summit', 'Brightline', 'Cobalt', 'Evergreen', 'Keystone', 'Lumen', 'Pioneer', 'Redwood', 'Silverleaf'];
export const EN_COMPANY_KINDS = ['Analytics', 'Logistics', 'Health', 'Labs', 'Foods', 'Capital', 'Systems', 'Retail', 'Energy', 'Studios'];

export const JA_FAMILY: [string, string][] = [
  ['佐藤', 'sato'], ['鈴木', 'suzuki'], ['高橋', 'takahashi'], ['田中', 'tanaka'], ['伊藤', 'ito'], ['渡辺', 'watanabe'], ['山本', 'yamamoto'],
  ['中村', 'nakamura'], ['小林', 'kobayashi'], ['加藤', 'kato'], ['吉田', 'yoshida'], ['山田', 'yamada'], ['松本', 'matsumoto'], ['井上', 'inoue'],
];
export const JA_GIVEN: [string, string][] = [
  ['健太', 'kenta'], ['翔太', 'shota'], ['大輔', 'daisuke'], ['拓也', 'takuya'], ['直樹', 'naoki'], ['陽子', 'yoko'], ['美咲', 'misaki'],
  ['由美', 'yumi'], ['彩', 'aya'], ['恵', 'megumi'], ['結衣', 'yui'], ['誠', 'makoto'], ['優子', 'yuko'], ['亮', 'ryo'],
];
export const EN_FIRST = ['Emily', 'James', 'Olivia', 'Liam', 'Sophia', 'Noah', 'Ava', 'Ethan', 'Mia', 'Lucas', 'Grace', 'Daniel'];
export const EN_LAST = ['Carter', 'Nguyen', 'Patel', 'Smith', 'Johnson', 'Garcia', 'Brown', 'Wilson', 'Taylor', 'Clark', 'Lewis', 'Walker'];

export const CSMS = ['csm-tanaka', 'csm-suzuki', 'csm-smith', 'csm-ito'];
