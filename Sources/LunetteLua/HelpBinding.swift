import CLua

import LuaHost

extension LunetteBindings {
    /// The global `help(x)`: prints what the registry says about x (a value or a dotted name).
    static func installHelp(in state: LuaState) {
        state.pushFunction("help", [LuaParameter("x", .any, optional: true), LuaParameter("name", .string, optional: true)],
                           doc: "Prints the documentation of a module, function, class, object or dotted name; help() lists the modules.") { call in
            let name = call.isNone(2) ? nil : try call.string(2)
            let text = call.state.helpText(at: call.count == 0 ? 3 : 1, name: name)
            Console.out(text + "\n")
            return 0
        }
        lua_setglobal(state.L, "help")
    }
}
