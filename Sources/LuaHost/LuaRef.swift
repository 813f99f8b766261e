import CLua

/// A strong reference from Swift to any Lua value, kept in the Lua registry.
/// Released when the Swift side lets go; harmless after the state has closed.
public final class LuaRef {
    weak var state: LuaState?
    let ref: Int32

    init(state: LuaState, popFrom L: OpaquePointer) {
        self.state = state
        self.ref = luaL_ref(L, lh_registryindex())
    }

    /// Pushes the referenced value onto L's stack.
    public func push(_ L: OpaquePointer) {
        _ = lh_getref(L, ref)
    }

    deinit {
        if let state, !state.isClosing {
            luaL_unref(state.L, lh_registryindex(), ref)
        }
    }
}
