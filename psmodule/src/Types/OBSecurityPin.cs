using System;

namespace OBAgent
{
    /// <summary>
    /// A security PIN issued by New-OBSecurityPin. ToString() is the PIN itself, so the object can
    /// be passed straight to Set-OBMachineSetting -SecurityPin.
    /// </summary>
    public sealed class OBSecurityPin
    {
        public string SecurityPin { get; internal set; }

        /// <summary>When the PIN stops being accepted, local time.</summary>
        public DateTime ExpiryTime { get; internal set; }

        public override string ToString()
        {
            return SecurityPin;
        }
    }
}
