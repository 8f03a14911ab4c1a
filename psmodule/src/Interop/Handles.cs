using System;
using System.Runtime.InteropServices;

namespace OBAgent.Interop
{
    /// <summary>An ob_vault* owned by managed code; released with ob_vault_free.</summary>
    internal sealed class VaultHandle : SafeHandle
    {
        internal VaultHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_vault_free(handle);
            return true;
        }
    }

    /// <summary>An ob_agent* owned by managed code; released with ob_agent_free.</summary>
    internal sealed class AgentHandle : SafeHandle
    {
        internal AgentHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_agent_free(handle);
            return true;
        }
    }

    /// <summary>An ob_policy* (a committed policy, read-only) owned by managed code; released with ob_policy_free.</summary>
    internal sealed class PolicyHandle : SafeHandle
    {
        internal PolicyHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_policy_free(handle);
            return true;
        }
    }

    /// <summary>An ob_recovery* (a recovery session over one server's backups); released with ob_recovery_free.</summary>
    internal sealed class RecoveryHandle : SafeHandle
    {
        internal RecoveryHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            NativeMethods.ob_recovery_free(handle);
            return true;
        }
    }
}
