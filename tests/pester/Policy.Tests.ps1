# The policy cmdlets: Microsoft's pipelines, read back, ids kept across commits, pause/resume,
# removal, every refusal, ShouldProcess metadata and output property names.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    # A data folder with files and subfolders under the context's root.
    function New-TestData {
        param($Context)
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'docs'), (Join-Path $data 'cache') -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'a.txt') -Value 'a'
        Set-Content -LiteralPath (Join-Path $data 'docs/b.log') -Value 'b'
        $data
    }

    function Get-CmdletAttribute {
        param([string] $Name)
        (Get-Command $Name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
    }
}

Describe 'New-OBPolicy and New-OBFileSpec' {
    BeforeEach { $ctx = New-TestContext; $data = New-TestData $ctx }
    AfterEach { Remove-TestContext $ctx }

    It 'New-OBPolicy returns an empty policy in State New with the MSOnlineBackup properties' {
        $p = New-OBPolicy
        $p | Should -BeOfType 'OBAgent.OBPolicy'
        $p.State | Should -Be 'New'
        $p.PolicyState | Should -Be 'Valid'
        $p.PolicyName | Should -BeNullOrEmpty
        @($p.DsList).Count | Should -Be 0
        foreach ($n in 'PolicyName', 'State', 'DsList', 'BackupSchedule', 'RetentionPolicy', 'PolicyState') {
            $p.PSObject.Properties.Name | Should -Contain $n
        }
        $p.BackupSchedule | Should -BeNullOrEmpty
        $p.RetentionPolicy | Should -BeNullOrEmpty
    }

    It 'New-OBFileSpec makes one spec per path with FileSpec, FilePath, FileName, IsExclude, IsRecursive' {
        $specs = New-OBFileSpec -FileSpec @($data, "$data/a.txt", "$data/docs/*.log")
        $specs.Count | Should -Be 3
        $specs[0].PSObject.Properties.Name | Sort-Object | Should -Be @('FileName', 'FilePath', 'FileSpec', 'IsExclude', 'IsRecursive')
        $specs[0].FileSpec | Should -Be $data
        $specs[0].FilePath | Should -Be $data
        $specs[0].FileName | Should -Be '*'
        $specs[0].IsExclude | Should -BeFalse
        $specs[0].IsRecursive | Should -BeTrue
        $specs[1].FilePath | Should -Be $data
        $specs[1].FileName | Should -Be 'a.txt'
        $specs[2].FilePath | Should -Be "$data/docs"
        $specs[2].FileName | Should -Be '*.log'
        $x = New-OBFileSpec -FileSpec "$data/cache" -Exclude -NonRecursive
        $x.IsExclude | Should -BeTrue
        $x.IsRecursive | Should -BeFalse
        ("$data/docs" | New-OBFileSpec).FileSpec | Should -Be "$data/docs"
    }

    It 'New-OBFileSpec refuses a relative path (FileSpecPathNotAbsolute)' {
        $err = Get-ErrorRecord { New-OBFileSpec -FileSpec 'data/docs' }
        $err.FullyQualifiedErrorId | Should -Be 'FileSpecPathNotAbsolute,OBAgent.Commands.NewOBFileSpecCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'absolute'
    }

    It 'New-OBFileSpec refuses a path with a NUL character, which would cut it short (PathContainsNul)' {
        $err = Get-ErrorRecord { New-OBFileSpec -FileSpec "$data/docs`0/etc" }
        $err.FullyQualifiedErrorId | Should -Be 'PathContainsNul,OBAgent.Commands.NewOBFileSpecCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception | Should -BeOfType [System.ArgumentException]
        $err.Exception.Message | Should -Match 'NUL'
        $err.Exception.Message | Should -Match ([regex]::Escape("$data/docs\0/etc"))
        $err = Get-ErrorRecord { New-OBFileSpec -FileSpec "$data/docs", "$data/a`0.txt" -Exclude }
        $err.FullyQualifiedErrorId | Should -Be 'PathContainsNul,OBAgent.Commands.NewOBFileSpecCommand'
    }

    It 'New-OBFileSpec refuses .. components and wildcards before the last component' {
        (Get-ErrorRecord { New-OBFileSpec -FileSpec "$data/../etc" }).FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.NewOBFileSpecCommand'
        (Get-ErrorRecord { New-OBFileSpec -FileSpec "$data/*/x" }).Exception.Message | Should -Match 'last component'
    }
}

Describe 'The policy journey' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-TestData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'commits with Microsoft''s pipeline and reads back with Get-OBPolicy | Get-OBFileSpec' {
        Get-OBPolicy | Should -BeNullOrEmpty
        $inc = New-OBFileSpec -FileSpec @($data)
        $exc = New-OBFileSpec -FileSpec @("$data/cache", "$data/*.tmp") -Exclude
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec $inc | Add-OBFileSpec -FileSpec $exc
        @($p.DsList).Count | Should -Be 1
        $p.DsList[0].DatasourceId | Should -Be 0
        $p.DsList[0].FileSpec.Count | Should -Be 3
        $c = $p | Set-OBPolicy -Confirm:$false
        $c | Should -BeOfType 'OBAgent.OBPolicy'
        $c.State | Should -Be 'Existing'
        { [guid]::Parse($c.PolicyName) } | Should -Not -Throw
        $c.DsList[0].DatasourceId | Should -BeGreaterThan 0
        $c.DsList[0].DataSourceName | Should -Be $c.DsList[0].Name
        $specs = @(Get-OBPolicy | Get-OBFileSpec)
        $specs.FileSpec | Should -Be @($data, "$data/cache", "$data/*.tmp")
        $specs.IsExclude | Should -Be @($false, $true, $true)
        (Get-OBPolicy).PolicyName | Should -Be $c.PolicyName
        (Get-OBPolicy | Out-String) | Should -Match 'PolicyName'
    }

    It 'keeps the policy name and the DatasourceId after a second Set-OBPolicy' {
        $c1 = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false
        $c2 = Get-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/cache" -Exclude) | Set-OBPolicy -Confirm:$false
        $c2.PolicyName | Should -Be $c1.PolicyName
        $c2.DsList[0].DatasourceId | Should -Be $c1.DsList[0].DatasourceId
        @(Get-OBPolicy | Get-OBFileSpec).Count | Should -Be 2
        # A brand-new policy object replaces the file specs but keeps the ids.
        $c3 = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/docs") | Set-OBPolicy -Confirm:$false
        $c3.PolicyName | Should -Be $c1.PolicyName
        $c3.DsList[0].DatasourceId | Should -Be $c1.DsList[0].DatasourceId
        @(Get-OBPolicy | Get-OBFileSpec).FileSpec | Should -Be @("$data/docs")
    }

    It 'Remove-OBFileSpec drops a spec; an unknown one is a non-terminating FileSpecNotInPolicy' {
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec @($data, "$data/docs"))
        $p = $p | Remove-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/docs") -Confirm:$false
        @($p | Get-OBFileSpec).FileSpec | Should -Be @($data)
        $errs = $null
        $p | Remove-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/cache") -ErrorVariable errs -ErrorAction SilentlyContinue | Out-Null
        $errs[0].FullyQualifiedErrorId | Should -Be 'FileSpecNotInPolicy,OBAgent.Commands.RemoveOBFileSpecCommand'
    }

    It 'pauses and resumes protection' {
        $c = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false
        $c | Get-OBPolicyState | Should -Be 'Valid'
        Get-OBPolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Get-OBPolicyState | Should -Be 'Paused'
        (Get-OBPolicy).PolicyState | Should -Be 'Paused'
        Get-OBPolicy | Set-OBPolicyState -State Valid | Out-Null
        Get-OBPolicy | Get-OBPolicyState | Should -Be 'Valid'
        Get-OBPolicy | Set-OBPolicyState -State Paused -WhatIf | Out-Null
        Get-OBPolicy | Get-OBPolicyState | Should -Be 'Valid'
    }

    It 'Remove-OBPolicy stops protection; a new commit gets a new name but the same data source id' {
        $c = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false
        Get-OBPolicy | Remove-OBPolicy -WhatIf
        Get-OBPolicy | Should -Not -BeNullOrEmpty
        Get-OBPolicy | Remove-OBPolicy -Confirm:$false
        Get-OBPolicy | Should -BeNullOrEmpty
        $err = Get-ErrorRecord { $c | Remove-OBPolicy -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Be 'NotFound,OBAgent.Commands.RemoveOBPolicyCommand'
        $d = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false
        $d.PolicyName | Should -Not -Be $c.PolicyName
        $d.DsList[0].DatasourceId | Should -Be $c.DsList[0].DatasourceId
        # -DeleteBackup needs the vault owner's PIN; without one the policy stays (Maintenance.Tests.ps1 covers the deletion).
        $err = Get-ErrorRecord { Get-OBPolicy | Remove-OBPolicy -DeleteBackup -SecurityPin ' ' -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.RemoveOBPolicyCommand'
        Get-OBPolicy | Should -Not -BeNullOrEmpty
        # The engine opens the server's backups to delete them, which needs its passphrase to be set.
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Policy-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $pin = New-OBSecurityPin -Path $ctx.Vault
        Get-OBPolicy | Remove-OBPolicy -DeleteBackup -SecurityPin $pin -Confirm:$false
        Get-OBPolicy | Should -BeNullOrEmpty
    }

    It 'Set-OBPolicy -WhatIf commits nothing' {
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -WhatIf
        Get-OBPolicy | Should -BeNullOrEmpty
    }
}

Describe 'Set-OBPolicy refusals' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-TestData $ctx
        function Set-TestPolicy {
            param([string[]] $Include, [string[]] $Exclude)
            $p = New-OBPolicy
            if ($Include) { $p = $p | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $Include) }
            if ($Exclude) { $p = $p | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $Exclude -Exclude) }
            $p | Set-OBPolicy -Confirm:$false
        }
    }
    AfterEach { Remove-TestContext $ctx }

    It 'commits an inclusion that does not exist, as MARS does, with a warning from Add-OBFileSpec and Set-OBPolicy' {
        $addWarn = $null
        $setWarn = $null
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/absent", "$data/gone/*.log", "$data/docs") -WarningVariable addWarn -WarningAction SilentlyContinue
        @($addWarn).Count | Should -Be 2
        ($addWarn -join "`n") | Should -Match ([regex]::Escape("'$data/absent' does not exist"))
        ($addWarn -join "`n") | Should -Match ([regex]::Escape("'$data/gone/*.log' does not exist"))
        ($addWarn -join "`n") | Should -Not -Match ([regex]::Escape("'$data/docs'"))
        $committed = $p | Set-OBPolicy -Confirm:$false -WarningVariable setWarn -WarningAction SilentlyContinue
        @($setWarn).Count | Should -Be 2
        ($setWarn -join "`n") | Should -Match ([regex]::Escape("'$data/absent' does not exist"))
        $committed.State | Should -Be 'Existing'
        @(Get-OBPolicy | Get-OBFileSpec).FileSpec | Should -Contain "$data/absent"
        # An exclusion that does not exist is no cause for a warning.
        $exWarn = $null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/docs/absent" -Exclude) -WarningVariable exWarn -WarningAction SilentlyContinue | Out-Null
        @($exWarn).Count | Should -Be 0
    }

    It 'refuses an exclusion outside every inclusion' {
        $err = Get-ErrorRecord { Set-TestPolicy -Include "$data/docs" -Exclude "$data/cache" }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBPolicyCommand'
        $err.Exception.Message | Should -Match 'outside every inclusion'
    }

    It 'refuses an empty policy and one with only exclusions' {
        (Get-ErrorRecord { New-OBPolicy | Set-OBPolicy -Confirm:$false }).Exception.Message | Should -Match 'no inclusion'
        (Get-ErrorRecord { Set-TestPolicy -Exclude "$data/cache" }).FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBPolicyCommand'
    }

    It 'refuses an inclusion that holds the agent''s state folder unless it is excluded' {
        $err = Get-ErrorRecord { Set-TestPolicy -Include $ctx.Root -Exclude $ctx.Vault }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBPolicyCommand'
        $err.Exception.Message | Should -Match 'state folder'
        $err.Exception.Message | Should -Match ([regex]::Escape($ctx.Home))
        $err.Exception.Message | Should -Match 'Exclude'
    }

    It 'refuses an inclusion that holds the vault unless it is excluded' {
        $err = Get-ErrorRecord { Set-TestPolicy -Include $ctx.Root -Exclude $ctx.Home }
        $err.Exception.Message | Should -Match 'vault folder'
        $err.Exception.Message | Should -Match ([regex]::Escape($ctx.Vault))
        $c = Set-TestPolicy -Include $ctx.Root -Exclude $ctx.Home, $ctx.Vault
        $c.State | Should -Be 'Existing'
    }

    It 'refuses when the server is not registered (ServerNotRegistered)' {
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'home-unregistered'
        $err = Get-ErrorRecord { Set-TestPolicy -Include $data }
        $err.FullyQualifiedErrorId | Should -Be 'ServerNotRegistered,OBAgent.Commands.SetOBPolicyCommand'
        $err.Exception.Message | Should -Match 'Start-OBRegistration'
    }
}

Describe 'Policy cmdlet metadata' {
    It '<Name> has ConfirmImpact <Impact>' -ForEach @(
        @{ Name = 'Set-OBPolicy'; Impact = 'High' },
        @{ Name = 'Remove-OBPolicy'; Impact = 'High' },
        @{ Name = 'Remove-OBFileSpec'; Impact = 'Medium' },
        @{ Name = 'Add-OBFileSpec'; Impact = 'Low' },
        @{ Name = 'Set-OBPolicyState'; Impact = 'Medium' }
    ) {
        $attr = Get-CmdletAttribute $Name
        $attr.SupportsShouldProcess | Should -BeTrue
        $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]$Impact)
    }

    It '<_> does not support ShouldProcess' -ForEach @('New-OBPolicy', 'New-OBFileSpec', 'Get-OBFileSpec', 'Get-OBPolicy', 'Get-OBPolicyState') {
        (Get-CmdletAttribute $_).SupportsShouldProcess | Should -BeFalse
    }

    It 'takes -Policy from the pipeline' -ForEach @('Add-OBFileSpec', 'Remove-OBFileSpec', 'Get-OBFileSpec', 'Set-OBPolicy', 'Remove-OBPolicy', 'Get-OBPolicyState', 'Set-OBPolicyState', 'Start-OBBackup') {
        $p = (Get-Command $_).Parameters['Policy']
        $p.ParameterType | Should -Be ([OBAgent.OBPolicy])
        @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipeline }).Count | Should -BeGreaterThan 0
    }

    It 'Set-OBPolicyState -State takes Valid or Paused' {
        [enum]::GetNames((Get-Command Set-OBPolicyState).Parameters['State'].ParameterType) | Should -Be @('Valid', 'Paused')
    }
}
