# The help of the cmdlets describes the output properties obagent added to MARS's objects
# (psmodule/en-US/OBAgent.dll-Help.xml): Get-Help -Full still reads the file and shows them.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    function Get-FullHelpText { param([string] $Name) (Get-Help $Name -Full | Out-String -Width 400) -replace '\s+', ' ' }
}

Describe 'Help of the output properties' {
    It 'the help file is well-formed XML' {
        $file = Join-Path $env:OBAGENT_TEST_MODULE 'en-US/OBAgent.dll-Help.xml'
        { [xml](Get-Content -LiteralPath $file -Raw) } | Should -Not -Throw
    }

    It '<Cmdlet> -Full describes <Words>' -ForEach @(
        @{ Cmdlet = 'Get-OBMachineSetting'; Words = @('VaultName: the name of the vault this server is registered to', 'VaultId: the id of that vault') },
        @{ Cmdlet = 'Get-OBMachineUsage'; Words = @('Time: when that usage was measured') },
        @{ Cmdlet = 'Get-OBSchedule'; Words = @('ScheduleId: an Int64 id of the committed schedule', '0 for a schedule not yet committed') },
        @{ Cmdlet = 'Get-OBRecoverableSource'; Words = @('RecoverySourceID: the data source''s id, an Int64') }
    ) {
        $text = Get-FullHelpText $Cmdlet
        $text | Should -Match ([regex]::Escape('OUTPUTS'))
        foreach ($w in $Words) { $text | Should -BeLike "*$w*" }
    }

    It 'the properties the help describes exist on the objects' {
        $ctx = New-TestContext
        try {
            Register-TestServer $ctx | Out-Null
            $s = Get-OBMachineSetting
            $s.PSObject.Properties.Name | Should -Contain 'VaultName'
            $s.PSObject.Properties.Name | Should -Contain 'VaultId'
            (Get-OBMachineUsage).PSObject.Properties.Name | Should -Contain 'Time'
            (New-OBSchedule).ScheduleId | Should -Be 0
        } finally {
            Remove-TestContext $ctx
        }
    }
}
