import Foundation

/// Bad input to the marketing-mix export (`d2.export.mmm`): the feature table, the ad platform's
/// delivery file and the options. Each case writes its own small files (mmm_<tag>_*.csv) from Lua.
extension BadInputCatalogueTests {
    /// A Lua string literal of `s` (newlines, quotes and backslashes escaped).
    static func luaLiteral(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r") + "'"
    }

    static let mmmFeatures = """
        creative_id,path,kind,width,height,duration_s,logo_present,logo_count,logo_max_score,logo_area_share,logo_frame_share,logo_first_seen_s,logo_screen_s,face_present,face_count,face_max_score,face_area_share,face_frame_share,face_first_seen_s,face_screen_s
        a1,creatives/a1.jpg,image,100,100,,1,1,0.9,0.1,1,0,,0,0,,0,0,,
        a2,"creatives/a, 2.mp4",video,100,100,10,0,0,,0,0,,0,1,1,0.8,0.2,0.5,1,5

        """

    static let mmmDelivery = "creative_id,date,channel,impressions,spend\na1,2024-01-08,Meta Ads,100,1.5\na2,2024-01-09,Google,50,0.5\n"

    /// d2.export.mmm over files mmm_<tag>_features.csv and mmm_<tag>_delivery.csv written first, with `options` added.
    static func mmm(_ tag: String, features: String = mmmFeatures, delivery: String = mmmDelivery, _ options: String = "") -> String {
        "local d2 = require 'detectron2'; "
            + "local function w(p, s) local f = assert(io.open(p, 'wb')); f:write(s); f:close() end; "
            + "w('mmm_\(tag)_features.csv', \(luaLiteral(features))); w('mmm_\(tag)_delivery.csv', \(luaLiteral(delivery))); "
            + "d2.export.mmm{features = 'mmm_\(tag)_features.csv', delivery = 'mmm_\(tag)_delivery.csv', out = 'mmm_\(tag)_out.csv'"
            + (options.isEmpty ? "" : ", " + options) + "}"
    }

    static let mmmHeader = "creative_id,date,channel,impressions,spend\n"

    static let marketingMixCases: [Case] = [
        // ---- the delivery file ----
        Case(name: "mmm delivery without a spend column", lua: mmm("a", delivery: "creative_id,date,channel,impressions\na1,2024-01-08,Meta,1\n"),
             expect: ["mmm_a_delivery.csv has no column 'spend'", "its header: creative_id, date, channel, impressions"]),
        Case(name: "mmm delivery column renamed to one it lacks", lua: mmm("b", "columns = {impressions = 'impr'}"),
             expect: ["mmm_b_delivery.csv has no column 'impr' (columns.impressions)", "its header: creative_id, date, channel, impressions, spend"]),
        Case(name: "mmm delivery date with slashes", lua: mmm("c", delivery: mmmHeader + "a1,2024-01-08,Meta,1,1\na2,2024/01/08,Meta,1,1\n"),
             expect: ["mmm_c_delivery.csv line 3, column 'date': '2024/01/08' is not a date", "YYYY-MM-DD"]),
        Case(name: "mmm delivery date not in the calendar", lua: mmm("d", delivery: mmmHeader + "a1,2023-02-29,Meta,1,1\n"),
             expect: ["mmm_d_delivery.csv line 2, column 'date': '2023-02-29' is not a date"]),
        Case(name: "mmm delivery date with a bad time", lua: mmm("e", delivery: mmmHeader + "a1,2024-01-08T25:00,Meta,1,1\n"),
             expect: ["mmm_e_delivery.csv line 2, column 'date': '2024-01-08T25:00' is not a date"]),
        Case(name: "mmm delivery date empty", lua: mmm("f", delivery: mmmHeader + "a1,,Meta,1,1\n"),
             expect: ["mmm_f_delivery.csv line 2, column 'date': '' is not a date"]),
        Case(name: "mmm delivery negative impressions", lua: mmm("g", delivery: mmmHeader + "a1,2024-01-08,Meta,-5,1\n"),
             expect: ["mmm_g_delivery.csv line 2, column 'impressions': impressions '-5' is negative"]),
        Case(name: "mmm delivery negative spend", lua: mmm("h", delivery: mmmHeader + "a1,2024-01-08,Meta,5,-0.01\n"),
             expect: ["mmm_h_delivery.csv line 2, column 'spend': spend '-0.01' is negative"]),
        Case(name: "mmm delivery empty impressions", lua: mmm("i", delivery: mmmHeader + "a1,2024-01-08,Meta,,1\n"),
             expect: ["mmm_i_delivery.csv line 2, column 'impressions': empty impressions", "write 0"]),
        Case(name: "mmm delivery empty spend under its own name", lua: mmm("j", delivery: "ad_id,day,platform,impr,cost\na1,2024-01-08,Meta,5,\n",
                                                                            "columns = {creative_id = 'ad_id', date = 'day', channel = 'platform', impressions = 'impr', spend = 'cost'}"),
             expect: ["mmm_j_delivery.csv line 2, column 'cost': empty spend"]),
        Case(name: "mmm delivery spend with a thousands separator", lua: mmm("k", delivery: mmmHeader + "a1,2024-01-08,Meta,5,\"1,234.50\"\n"),
             expect: ["mmm_k_delivery.csv line 2, column 'spend': spend '1,234.50' is not a number"]),
        Case(name: "mmm delivery spend with a currency sign", lua: mmm("l", delivery: mmmHeader + "a1,2024-01-08,Meta,5,$3\n"),
             expect: ["mmm_l_delivery.csv line 2, column 'spend': spend '$3' is not a number"]),
        Case(name: "mmm delivery impressions infinite", lua: mmm("m", delivery: mmmHeader + "a1,2024-01-08,Meta,inf,1\n"),
             expect: ["mmm_m_delivery.csv line 2, column 'impressions': impressions 'inf' is not a finite number"]),
        Case(name: "mmm delivery impressions NaN", lua: mmm("n", delivery: mmmHeader + "a1,2024-01-08,Meta,NaN,1\n"),
             expect: ["mmm_n_delivery.csv line 2, column 'impressions': impressions 'NaN' is not a finite number"]),
        Case(name: "mmm delivery impressions 1e300", lua: mmm("o", delivery: mmmHeader + "a1,2024-01-08,Meta,1e300,1\n"),
             expect: ["mmm_o_delivery.csv line 2, column 'impressions': impressions '1e300' is too large"]),
        Case(name: "mmm delivery channels that collide", lua: mmm("p", delivery: mmmHeader + "a1,2024-01-08,Meta Ads,1,1\na2,2024-01-08,meta-ads,1,1\n"),
             expect: ["mmm_p_delivery.csv: channels 'Meta Ads' (line 2) and 'meta-ads' (line 3) both become the column name 'meta_ads'"]),
        Case(name: "mmm delivery channel of punctuation", lua: mmm("q", delivery: mmmHeader + "a1,2024-01-08,!!!,1,1\n"),
             expect: ["mmm_q_delivery.csv line 2, column 'channel': channel '!!!' has no letters or digits"]),
        Case(name: "mmm delivery channel empty", lua: mmm("r", delivery: mmmHeader + "a1,2024-01-08,,1,1\n"),
             expect: ["mmm_r_delivery.csv line 2, column 'channel': the channel is empty"]),
        Case(name: "mmm delivery totals row without a creative", lua: mmm("s", delivery: mmmHeader + "a1,2024-01-08,Meta,1,1\n,2024-01-08,Meta,1,1\n"),
             expect: ["mmm_s_delivery.csv line 3, column 'creative_id': the creative id is empty (a totals row?"]),
        Case(name: "mmm delivery ragged row", lua: mmm("t", delivery: mmmHeader + "a1,2024-01-08,Meta,1,1\na2,2024-01-08,Meta,1\n"),
             expect: ["mmm_t_delivery.csv line 3: 4 fields, but the header (line 1) has 5"]),
        Case(name: "mmm delivery row with an unquoted comma", lua: mmm("u", delivery: mmmHeader + "a1,2024-01-08,Meta, Inc.,1,1\n"),
             expect: ["mmm_u_delivery.csv line 2: 6 fields, but the header (line 1) has 5", "double quotes"]),
        Case(name: "mmm delivery quote never closed", lua: mmm("v", delivery: mmmHeader + "a1,2024-01-08,Meta,1,1\na2,2024-01-08,\"Meta,1,1\na3,2024-01-09,Meta,1,1\n"),
             expect: ["mmm_v_delivery.csv line 3: field 3 opens a double quote that is never closed"]),
        Case(name: "mmm delivery text after a closing quote", lua: mmm("w", delivery: mmmHeader + "a1,2024-01-08,\"Meta\"x,1,1\n"),
             expect: ["mmm_w_delivery.csv line 2: field 3 has text ('x') after its closing quote"]),
        Case(name: "mmm delivery not UTF-8",
             lua: "local d2 = require 'detectron2'; local f = assert(io.open('mmm_x_features.csv', 'wb')); f:write(\(luaLiteral(mmmFeatures))); f:close(); "
                + "f = assert(io.open('mmm_x_delivery.csv', 'wb')); f:write('creative_id,date,channel,impressions,spend\\na1,2024-01-08,T\\233l\\233,1,1\\n'); f:close(); "
                + "d2.export.mmm{features = 'mmm_x_features.csv', delivery = 'mmm_x_delivery.csv', out = 'mmm_x_out.csv'}",
             expect: ["mmm_x_delivery.csv line 2: field 3 is not valid UTF-8"]),
        Case(name: "mmm delivery only a header", lua: mmm("y", delivery: mmmHeader), expect: ["mmm_y_delivery.csv has no delivery rows"]),
        Case(name: "mmm delivery empty file", lua: mmm("z", delivery: ""), expect: ["mmm_z_delivery.csv is empty: it has no header line"]),
        Case(name: "mmm delivery column twice", lua: mmm("aa", delivery: "creative_id,date,channel,impressions,spend,spend\na1,2024-01-08,Meta,1,1,2\n"),
             expect: ["mmm_aa_delivery.csv has 2 columns named 'spend' (columns 5 and 6)"]),
        Case(name: "mmm delivery dates two centuries apart", lua: mmm("ab", delivery: mmmHeader + "a1,1824-01-08,Meta,1,1\na2,2024-01-08,Meta,1,1\n"),
             expect: ["mmm_ab_delivery.csv: the dates run from 1824-01-08 (line 2) to 2024-01-08 (line 3)", "is a year mistyped?"]),
        Case(name: "mmm delivery file missing", lua: "require('detectron2').export.mmm{features = 'mmm_none_f.csv', delivery = 'mmm_none_d.csv', out = 'mmm_none.csv'}",
             expect: ["mmm_none_f.csv"]),
        Case(name: "mmm delivery a folder", lua: "os.execute('mkdir -p mmm_folder.csv'); require('detectron2').export.mmm{features = 'mmm_folder.csv', delivery = 'mmm_folder.csv', out = 'mmm_o.csv'}",
             expect: ["mmm_folder.csv: it is a folder"]),
        Case(name: "mmm a creative without a feature row", lua: mmm("ac", delivery: mmmHeader + "a1,2024-01-08,Meta,100,1\nzz9,2024-01-08,Meta,40,2\n"),
             warns: ["mmm_ac_delivery.csv: 1 creative id has no row in mmm_ac_features.csv (40 impressions, 2 spend", "zz9"]),
        Case(name: "mmm column names that collide", lua: mmm("ad", delivery: mmmHeader + "a1,2024-01-08,meta,1,1\na2,2024-01-08,meta_logo,1,1\n"),
             expect: ["the table would have the column 'meta_logo_impressions' twice", "channel 'meta' with object 'logo'", "channel 'meta_logo'"]),
        // ---- the feature table ----
        Case(name: "mmm features without creative_id", lua: mmm("ba", features: "id,logo_present\na1,1\n"),
             expect: ["mmm_ba_features.csv has no column 'creative_id'", "its header: id, logo_present"]),
        Case(name: "mmm features without objects", lua: mmm("bb", features: "creative_id,path\na1,x.jpg\n"),
             expect: ["mmm_bb_features.csv has no <object>_present columns", "its header: creative_id, path"]),
        Case(name: "mmm features present neither 1 nor 0", lua: mmm("bc", features: "creative_id,logo_present\na1,1\na2,yes\n"),
             expect: ["mmm_bc_features.csv line 3, column 'logo_present': 'yes' is not 1 or 0"]),
        Case(name: "mmm features creative twice", lua: mmm("bd", features: "creative_id,logo_present\na1,1\na2,0\na1,0\n"),
             expect: ["mmm_bd_features.csv line 4: creative 'a1' is listed again (first on line 2)"]),
        Case(name: "mmm features ragged row", lua: mmm("be", features: "creative_id,logo_present\na1,1,0\n"),
             expect: ["mmm_be_features.csv line 2: 3 fields, but the header (line 1) has 2"]),
        Case(name: "mmm features only a header", lua: mmm("bf", features: "creative_id,logo_present\n"), expect: ["mmm_bf_features.csv has no creatives"]),
        // ---- options ----
        Case(name: "mmm unknown object", lua: mmm("ca", "objects = {'logo', 'lgo'}"),
             expect: ["objects: 'lgo' is not an object of mmm_ca_features.csv", "(its objects: logo, face)"]),
        Case(name: "mmm object twice", lua: mmm("cb", "objects = {'logo', 'logo'}"), expect: ["objects lists 'logo' twice"]),
        Case(name: "mmm objects empty", lua: mmm("cc", "objects = {}"), expect: ["objects is empty"]),
        Case(name: "mmm unknown preset", lua: mmm("cd", "preset = 'robin'"), expect: ["unknown preset 'robin'; did you mean robyn?"]),
        Case(name: "mmm unknown period", lua: mmm("ce", "period = 'month'"), expect: ["period must be \"week\" or \"day\", not 'month'"]),
        Case(name: "mmm unknown columns key", lua: mmm("cf", "columns = {impresions = 'impr'}"), expect: ["columns: unknown key 'impresions'; did you mean impressions?"]),
        Case(name: "mmm two columns the same", lua: mmm("cg", "columns = {impressions = 'n', spend = 'n'}"), expect: ["columns: impressions and spend both name the column 'n'"]),
        Case(name: "mmm option misspelt", lua: mmm("ch", "perod = 'week'"), expect: ["unknown option 'perod'"]),
        Case(name: "mmm features not a path", lua: "require('detectron2').export.mmm{features = {}, delivery = 'd.csv', out = 'o.csv'}",
             expect: ["mmm: features must be the path of a feature table CSV (from job:features{out = ...})"]),
        Case(name: "mmm without delivery", lua: "require('detectron2').export.mmm{features = 'f.csv', out = 'o.csv'}", expect: ["mmm needs delivery ="]),
        Case(name: "mmm without out", lua: "require('detectron2').export.mmm{features = 'f.csv', delivery = 'd.csv'}", expect: ["mmm needs out ="]),
        Case(name: "mmm out not writable", lua: mmm("ci").replacingOccurrences(of: "out = 'mmm_ci_out.csv'", with: "out = '/proc/lunette_mmm/out.csv'"),
             expect: ["/proc/lunette_mmm"]),
    ]
}
